using System.Text;
using System.Text.RegularExpressions;

namespace NewTechPark.Edge.Contracts.Tests.Repository;

/// <summary>
/// One door to the store: every SQL statement of the collector lives under collector/Storage/
/// (collector/Storage/README.md). Elsewhere no string literal holds SQL and no code touches
/// SqliteConnection or SqliteCommand or opens a connection; API handlers do not take the store itself.
/// </summary>
public sealed partial class StoreBoundaryTests
{
    [Fact]
    public void No_sql_or_sqlite_connection_outside_collector_storage()
    {
        var root = Path.Combine(CommittedSecrets.RepositoryRoot, "collector");
        var storage = Path.Combine(root, "Storage") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(storage, StringComparison.Ordinal) && !IsBuildOutput(root, f))
            .ToList();
        Assert.NotEmpty(files);

        var findings = files.SelectMany(f => Scan(File.ReadAllText(f)).Select(x => $"{Path.GetRelativePath(CommittedSecrets.RepositoryRoot, f)}:{x}")).ToList();

        Assert.True(findings.Count == 0, "SQL or SQLite access outside collector/Storage/ (move it into a store class there):\n" + string.Join('\n', findings));
    }

    [Fact]
    public void Api_handlers_do_not_take_the_store()
    {
        var api = Path.Combine(CommittedSecrets.RepositoryRoot, "collector", "Api");
        var findings = Directory.EnumerateFiles(api, "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => Code(File.ReadAllText(f)).Split('\n').Select((line, i) => (f, i, line)))
            .Where(x => StoreType().IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(CommittedSecrets.RepositoryRoot, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();

        Assert.True(findings.Count == 0, "API handlers talk to services, services to the store:\n" + string.Join('\n', findings));
    }

    [Theory]
    [InlineData("var sql = \"SELECT id FROM series WHERE site = $site\";")]
    [InlineData("var sql = \"insert or ignore into batches (site) values ($s)\";")]
    [InlineData("command.CommandText = $\"UPDATE points SET value = {v}\";")]
    [InlineData("var sql = @\"DELETE FROM badge_scans\";")]
    [InlineData("var sql = \"\"\"\n    CREATE TABLE IF NOT EXISTS x (a INTEGER);\n    \"\"\";")]
    [InlineData("Execute(\"PRAGMA secure_delete = ON\");")]
    [InlineData("using var connection = new SqliteConnection(path);")]
    [InlineData("private readonly Microsoft.Data.Sqlite.SqliteCommand _command;")]
    [InlineData("using var connection = store.OpenReader();")]
    [InlineData("using var command = connection.CreateCommand();")]
    public void The_scan_finds_sql_in_every_kind_of_literal_and_sqlite_types(string source)
    {
        Assert.NotEmpty(Scan(source));
    }

    [Theory]
    [InlineData("// SELECT id FROM series: a comment may name SQL\nvar x = 1;")]
    [InlineData("/* DELETE FROM points */ var x = 1;")]
    [InlineData("logger.LogInformation(\"Retention: deleted {Count} raw point(s) older than {Cutoff:u}\", n, c);")]
    [InlineData("catch (Microsoft.Data.Sqlite.SqliteException e) { }")]
    [InlineData("var c = '\"'; var s = \"update the room count\";")]
    public void The_scan_lets_comments_prose_and_sqlite_exceptions_pass(string source)
    {
        Assert.Empty(Scan(source));
    }

    /// <summary>Line and text of each SQL literal or SQLite connection/command type in a C# source.</summary>
    public static List<string> Scan(string source)
    {
        var findings = new List<string>();
        var (code, literals) = Split(source);
        var lines = code.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (SqliteType().Match(lines[i]) is { Success: true } m)
            {
                findings.Add($"{i + 1}: {m.Value}");
            }
        }

        foreach (var (line, text) in literals)
        {
            if (Sql().Match(text) is { Success: true } m)
            {
                findings.Add($"{line}: \"{m.Value}\" in a string literal");
            }
        }

        return findings;
    }

    /// <summary>The source without comments and string contents.</summary>
    private static string Code(string source) => Split(source).Code;

    /// <summary>
    /// Splits C# into code (comments removed, literals emptied, line breaks kept) and its string
    /// literals with the line each starts on: regular, verbatim, interpolated and raw strings.
    /// </summary>
    private static (string Code, List<(int Line, string Text)> Literals) Split(string s)
    {
        var code = new StringBuilder(s.Length);
        var literals = new List<(int, string)>();
        var line = 1;
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '\n')
            {
                line++;
                code.Append(c);
                i++;
            }
            else if (c == '/' && i + 1 < s.Length && s[i + 1] == '/')
            {
                while (i < s.Length && s[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                var end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? s.Length : end + 2;
                var skipped = s[i..end];
                line += skipped.Count(ch => ch == '\n');
                code.Append('\n', skipped.Count(ch => ch == '\n'));
                i = end;
            }
            else if (c == '\'')
            {
                // A char literal: '"' must not open a string.
                var end = i + 1;
                while (end < s.Length && s[end] != '\'')
                {
                    end += s[end] == '\\' ? 2 : 1;
                }

                i = Math.Min(s.Length, end + 1);
            }
            else if (c == '"' || ((c == '@' || c == '$') && StringAhead(s, i)))
            {
                var start = i;
                var verbatim = false;
                while (s[i] is '@' or '$')
                {
                    verbatim |= s[i] == '@';
                    i++;
                }

                var quotes = 0;
                while (i + quotes < s.Length && s[i + quotes] == '"')
                {
                    quotes++;
                }

                int bodyStart, bodyEnd, end;
                if (quotes >= 3)
                {
                    var close = new string('"', quotes);
                    bodyStart = i + quotes;
                    bodyEnd = s.IndexOf(close, bodyStart, StringComparison.Ordinal);
                    bodyEnd = bodyEnd < 0 ? s.Length : bodyEnd;
                    end = Math.Min(s.Length, bodyEnd + quotes);
                }
                else
                {
                    bodyStart = i + 1;
                    var j = bodyStart;
                    while (j < s.Length)
                    {
                        if (verbatim && s[j] == '"' && j + 1 < s.Length && s[j + 1] == '"')
                        {
                            j += 2;
                        }
                        else if (!verbatim && s[j] == '\\')
                        {
                            j += 2;
                        }
                        else if (s[j] == '"' || (!verbatim && s[j] == '\n'))
                        {
                            break;
                        }
                        else
                        {
                            j++;
                        }
                    }

                    bodyEnd = Math.Min(j, s.Length);
                    end = Math.Min(s.Length, bodyEnd + 1);
                }

                var body = s[bodyStart..bodyEnd];
                literals.Add((line, body));
                var breaks = s[start..end].Count(ch => ch == '\n');
                line += breaks;
                code.Append("\"\"").Append('\n', breaks);
                i = end;
            }
            else
            {
                code.Append(c);
                i++;
            }
        }

        return (code.ToString(), literals);
    }

    private static bool StringAhead(string s, int i)
    {
        while (i < s.Length && s[i] is '@' or '$')
        {
            i++;
        }

        return i < s.Length && s[i] == '"';
    }

    private static bool IsBuildOutput(string root, string file)
    {
        var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
        return relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b(SELECT\b[\s\S]*?\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TEMP\s+|TEMPORARY\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX)|PRAGMA)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Sql();

    [GeneratedRegex(@"\bSqlite(Connection|Command|Transaction|DataReader)\b|\.(OpenReader|CreateCommand|BeginTransaction)\s*\(")]
    private static partial Regex SqliteType();

    [GeneratedRegex(@"\bSqliteStore\b")]
    private static partial Regex StoreType();
}
