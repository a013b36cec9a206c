using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>CONTRACT.md and the schema files, as copied next to the test assembly.</summary>
internal static partial class ContractFiles
{
    public const string ReadingsTopic = "ntp/v1/newtechpark/pi-entrance/readings";
    public const string StatusTopic = "ntp/v1/newtechpark/pi-entrance/status";

    private static readonly Lazy<IReadOnlyList<string>> Examples = new(() =>
        JsonBlock().Matches(ContractMarkdown).Select(m => m.Groups["body"].Value).ToArray());

    private static readonly Lazy<JsonSchema> ReadingsSchemaLazy = new(() => LoadSchema("readings-batch.schema.json"));
    private static readonly Lazy<JsonSchema> StatusSchemaLazy = new(() => LoadSchema("status.schema.json"));

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "contract");

    public static string ContractMarkdown => File.ReadAllText(Path.Combine(Folder, "CONTRACT.md"));

    /// <summary>The body of every <c>```json</c> block of CONTRACT.md, in order.</summary>
    public static IReadOnlyList<string> JsonExamples => Examples.Value;

    /// <summary>The one example that is a readings batch.</summary>
    public static string ReadingsExample => JsonExamples.Single(e => JsonNode.Parse(e)?["readings"] is not null);

    /// <summary>The one example that is a status message.</summary>
    public static string StatusExample => JsonExamples.Single(e => JsonNode.Parse(e)?["state"] is not null);

    public static JsonSchema ReadingsSchema => ReadingsSchemaLazy.Value;

    public static JsonSchema StatusSchema => StatusSchemaLazy.Value;

    public static string SchemaPath(string fileName) => Path.Combine(Folder, "schemas", fileName);

    /// <summary>Evaluates a JSON document against a schema; the list output explains a failure.</summary>
    public static EvaluationResults Evaluate(JsonSchema schema, ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        return schema.Evaluate(document.RootElement.Clone(), new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    /// <summary>The errors of a failed evaluation, one per line, for assertion messages.</summary>
    public static string Describe(EvaluationResults results)
    {
        var lines = new List<string>();
        void Walk(EvaluationResults node)
        {
            // Failures inside "if" only choose a branch; they are not reasons.
            var chooser = node.EvaluationPath.ToString().Contains("/if", StringComparison.Ordinal);
            if (node.Errors is not null && !chooser)
            {
                foreach (var (keyword, error) in node.Errors)
                {
                    lines.Add($"{node.InstanceLocation} ({node.EvaluationPath}) {keyword}: {error}");
                }
            }

            foreach (var child in node.Details ?? [])
            {
                Walk(child);
            }
        }

        Walk(results);
        return lines.Count == 0 ? "(no errors)" : string.Join(Environment.NewLine, lines);
    }

    private static JsonSchema LoadSchema(string fileName) =>
        JsonSchema.FromText(File.ReadAllText(SchemaPath(fileName)), new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    [GeneratedRegex(@"^```json[ \t]*\r?\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
