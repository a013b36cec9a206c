using System.Text.Json;
using Json.Schema;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>The schema files refuse what JSON Schema can express, and accept what it cannot.</summary>
public sealed class SchemaTests
{
    public static TheoryData<string> OutsideJsonSchema => new()
    {
        "larger-than-256-kib",
        "topic-with-wildcards",
        "topic-wrong-version",
        "reading-6-minutes-ahead",
        "reading-401-days-old",
    };

    [Theory]
    [MemberData(nameof(BrokenPayloads.SchemaExpressibleNames), MemberType = typeof(BrokenPayloads))]
    public void Schema_refuses_the_broken_message(string name)
    {
        var broken = BrokenPayloads.Get(name);

        var results = ContractFiles.Evaluate(SchemaFor(broken.Channel), broken.Build());

        Assert.False(results.IsValid, $"the {broken.Channel} schema accepted '{name}', which breaks {broken.Rule}");
    }

    [Theory]
    [MemberData(nameof(OutsideJsonSchema))]
    public void Schema_accepts_what_only_the_collector_can_refuse(string name)
    {
        var broken = BrokenPayloads.Get(name);
        Assert.False(broken.SchemaCanExpress);

        var results = ContractFiles.Evaluate(SchemaFor(broken.Channel), broken.Build());

        Assert.True(results.IsValid, ContractFiles.Describe(results));
    }

    [Theory]
    [InlineData("readings-batch.schema.json", "https://newtechpark.nl/schemas/ntp/v1/readings-batch.json")]
    [InlineData("status.schema.json", "https://newtechpark.nl/schemas/ntp/v1/status.json")]
    public void Schema_file_declares_draft_2020_12_and_its_id(string fileName, string id)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(ContractFiles.SchemaPath(fileName)));
        var root = document.RootElement;

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.Equal(id, root.GetProperty("$id").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("description").GetString()));
    }

    [Theory]
    [InlineData("readings-batch.schema.json")]
    [InlineData("status.schema.json")]
    public void Schema_file_is_valid_against_the_draft_2020_12_meta_schema(string fileName)
    {
        var meta = JsonSchema.FromText(
            """{ "$ref": "https://json-schema.org/draft/2020-12/schema" }""",
            new BuildOptions { SchemaRegistry = new SchemaRegistry() });

        var results = ContractFiles.Evaluate(meta, File.ReadAllBytes(ContractFiles.SchemaPath(fileName)));

        Assert.True(results.IsValid, ContractFiles.Describe(results));
    }

    private static JsonSchema SchemaFor(TopicChannel channel) => channel switch
    {
        TopicChannel.Readings => ContractFiles.ReadingsSchema,
        TopicChannel.Status => ContractFiles.StatusSchema,
        _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "unknown channel"),
    };
}
