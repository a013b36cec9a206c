using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NewTechPark.Edge.Collector.Tests.Broker;

/// <summary>
/// Reads the subset of HOCON that <c>hardware/emqx/emqx.conf</c> uses into flat keys
/// (<c>mqtt.max_packet_size</c>, <c>authentication[0].backend</c>): objects, dotted keys, arrays,
/// quoted strings, bare values, <c>#</c> comments. Anything else is refused, so the file stays
/// within what the tests read. It also evaluates the file's <c>mqtt.client_attrs_init</c>
/// expressions, all of the form <c>concat(regex_extract(username, '...'))</c>.
/// </summary>
public sealed partial class EmqxConf
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly string _text;
    private int _at;

    private EmqxConf(string text)
    {
        _text = text;
        ReadMembers(string.Empty, closing: null);
    }

    public IReadOnlyDictionary<string, string> Values => _values;

    public string this[string key] => _values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"emqx.conf has no {key}");

    public static EmqxConf Parse(string text) => new(text);

    /// <summary>A byte size as EMQX reads it: a plain integer, or a number with KB/MB/GB (1,024-based).</summary>
    public long Bytes(string key)
    {
        var match = ByteSize().Match(this[key]);
        Assert.True(match.Success, $"{key} = {this[key]} is not a byte size");
        var number = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "" => number,
            "KB" => number * 1024,
            "MB" => number * 1024 * 1024,
            "GB" => number * 1024 * 1024 * 1024,
            var unit => throw new FormatException($"unknown unit {unit}"),
        };
    }

    /// <summary>A duration as EMQX writes them here: a number and one of ms, s, m, h, d.</summary>
    public TimeSpan Duration(string key)
    {
        var match = DurationText().Match(this[key]);
        Assert.True(match.Success, $"{key} = {this[key]} is not a duration");
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            "h" => TimeSpan.FromHours(number),
            _ => TimeSpan.FromDays(number),
        };
    }

    /// <summary>The client attributes EMQX sets for a login with this username (mqtt.client_attrs_init).</summary>
    public IReadOnlyDictionary<string, string> ClientAttributes(string username)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; _values.ContainsKey($"mqtt.client_attrs_init[{i}].expression"); i++)
        {
            var expression = this[$"mqtt.client_attrs_init[{i}].expression"];
            var match = RegexExtractOfUsername().Match(expression);
            Assert.True(match.Success, $"client_attrs_init[{i}] is not concat(regex_extract(username, '...')): {expression}");
            // regex_extract gives the capture groups (none when the pattern does not match); concat joins them.
            // An empty result sets no attribute.
            var found = new Regex(match.Groups[1].Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)).Match(username);
            var value = found.Success ? string.Concat(found.Groups.Values.Skip(1).Select(g => g.Value)) : string.Empty;
            if (value.Length > 0)
            {
                attributes[this[$"mqtt.client_attrs_init[{i}].set_as_attr"]] = value;
            }
        }

        return attributes;
    }

    [GeneratedRegex(@"^(\d+)(KB|MB|GB)?$")]
    private static partial Regex ByteSize();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")]
    private static partial Regex DurationText();

    [GeneratedRegex(@"^concat\(regex_extract\(username, '([^']*)'\)\)$")]
    private static partial Regex RegexExtractOfUsername();

    private void ReadMembers(string prefix, char? closing)
    {
        while (true)
        {
            SkipBlank(newlines: true);
            if (_at >= _text.Length)
            {
                Assert.True(closing is null, $"emqx.conf ends inside {prefix}");
                return;
            }

            if (_text[_at] == closing)
            {
                _at++;
                return;
            }

            if (_text[_at] == ',')
            {
                _at++;
                continue;
            }

            var key = ReadKey();
            SkipBlank(newlines: false);
            var path = prefix.Length == 0 ? key : $"{prefix}.{key}";
            if (Peek() == '{')
            {
                _at++;
                ReadMembers(path, '}');
                continue;
            }

            Assert.True(Peek() is '=' or ':', $"emqx.conf: expected '=' after {path} at {Line()}");
            _at++;
            ReadValue(path);
        }
    }

    private void ReadValue(string path)
    {
        SkipBlank(newlines: false);
        switch (Peek())
        {
            case '{':
                _at++;
                ReadMembers(path, '}');
                return;
            case '[':
                _at++;
                var index = 0;
                while (true)
                {
                    SkipBlank(newlines: true);
                    if (Peek() == ']')
                    {
                        _at++;
                        _values[$"{path}.count"] = index.ToString(CultureInfo.InvariantCulture);
                        return;
                    }

                    if (Peek() == ',')
                    {
                        _at++;
                        continue;
                    }

                    ReadValue($"{path}[{index++}]");
                }

            case '"':
                _values[path] = ReadQuoted();
                return;
            default:
                var start = _at;
                while (_at < _text.Length && !"\n,}]#".Contains(_text[_at], StringComparison.Ordinal))
                {
                    _at++;
                }

                var bare = _text[start.._at].Trim();
                Assert.True(bare.Length > 0 && !bare.Contains("${", StringComparison.Ordinal), $"emqx.conf: a value outside the subset at {path}: '{bare}'");
                _values[path] = bare;
                return;
        }
    }

    private string ReadKey()
    {
        var start = _at;
        while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] is '_' or '.' or '-'))
        {
            _at++;
        }

        Assert.True(_at > start, $"emqx.conf: expected a key at {Line()}");
        return _text[start.._at];
    }

    private string ReadQuoted()
    {
        Assert.False(_text.AsSpan(_at).StartsWith("\"\"\""), $"emqx.conf: triple-quoted strings are outside the subset ({Line()})");
        _at++;
        var value = new StringBuilder();
        while (_at < _text.Length && _text[_at] != '"')
        {
            if (_text[_at] == '\\')
            {
                _at++;
            }

            value.Append(_text[_at++]);
        }

        _at++;
        return value.ToString();
    }

    private void SkipBlank(bool newlines)
    {
        while (_at < _text.Length)
        {
            var c = _text[_at];
            if (c == '#' || (c == '/' && _at + 1 < _text.Length && _text[_at + 1] == '/'))
            {
                while (_at < _text.Length && _text[_at] != '\n')
                {
                    _at++;
                }
            }
            else if (c is ' ' or '\t' or '\r' || (newlines && c == '\n'))
            {
                _at++;
            }
            else
            {
                return;
            }
        }
    }

    private char? Peek() => _at < _text.Length ? _text[_at] : null;

    private string Line() => $"line {_text[.._at].Count(c => c == '\n') + 1}";
}
