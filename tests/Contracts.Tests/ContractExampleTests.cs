using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>Every JSON example in CONTRACT.md is accepted, round-trips, and matches its schema.</summary>
public sealed class ContractExampleTests
{
    private readonly ContractValidator validator = new(ContractClock.Create());

    [Fact]
    public void Contract_has_exactly_a_readings_and_a_status_example()
    {
        var examples = ContractFiles.JsonExamples;

        Assert.Equal(2, examples.Count);
        Assert.All(examples, e => Assert.IsType<JsonObject>(JsonNode.Parse(e)));
        Assert.NotEqual(ContractFiles.ReadingsExample, ContractFiles.StatusExample);
    }

    [Fact]
    public void Readings_example_is_accepted_by_the_validator()
    {
        var result = validator.ValidateReadings(ContractFiles.ReadingsTopic, Encoding.UTF8.GetBytes(ContractFiles.ReadingsExample));

        Assert.True(result.IsValid, result.Reason);
        Assert.Empty(result.Violations);
        Assert.Equal(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Readings), result.Address);
        var batch = result.Value!;
        Assert.Equal(18446UL, batch.Seq);
        Assert.Equal(5, batch.Readings.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 9, 15, 2, 120, TimeSpan.Zero), batch.Sent);
        Assert.Equal(5321, batch.Readings[0].Values![ReadingKinds.DoorValues.InTotal]);
        Assert.Equal("Zk3J9aQ2mX0pR7tV1wY4bC", batch.Readings[4].Visitor);
        Assert.Null(batch.Readings[4].Values);
    }

    [Fact]
    public void Readings_example_round_trips()
    {
        var batch = JsonSerializer.Deserialize(ContractFiles.ReadingsExample, ContractJsonContext.Default.ReadingsBatch);
        var written = JsonSerializer.Serialize(batch, ContractJsonContext.Default.ReadingsBatch);

        var difference = JsonSemantics.FindDifference(JsonNode.Parse(ContractFiles.ReadingsExample), JsonNode.Parse(written));
        Assert.True(difference is null, $"{difference}{Environment.NewLine}written: {written}");
    }

    [Fact]
    public void Readings_example_matches_the_schema()
    {
        var results = ContractFiles.Evaluate(ContractFiles.ReadingsSchema, Encoding.UTF8.GetBytes(ContractFiles.ReadingsExample));

        Assert.True(results.IsValid, ContractFiles.Describe(results));
    }

    [Fact]
    public void Status_example_is_accepted_by_the_validator()
    {
        var result = validator.ValidateStatus(ContractFiles.StatusTopic, Encoding.UTF8.GetBytes(ContractFiles.StatusExample));

        Assert.True(result.IsValid, result.Reason);
        Assert.Empty(result.Violations);
        Assert.Equal(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Status), result.Address);
        var status = result.Value!;
        Assert.Equal(StatusMessage.Online, status.State);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 9, 15, 0, TimeSpan.Zero), status.Ts);
        Assert.Equal(3600, status.UptimeS);
        Assert.Equal(0, status.Outbox!.Pending);
        Assert.Null(status.Outbox.Oldest);
        Assert.Equal("ok", status.Sensors!["door-main"]);
    }

    [Fact]
    public void Status_example_round_trips()
    {
        var status = JsonSerializer.Deserialize(ContractFiles.StatusExample, ContractJsonContext.Default.StatusMessage);
        var written = JsonSerializer.Serialize(status, ContractJsonContext.Default.StatusMessage);

        var difference = JsonSemantics.FindDifference(JsonNode.Parse(ContractFiles.StatusExample), JsonNode.Parse(written));
        Assert.True(difference is null, $"{difference}{Environment.NewLine}written: {written}");
    }

    [Fact]
    public void Status_example_matches_the_schema()
    {
        var results = ContractFiles.Evaluate(ContractFiles.StatusSchema, Encoding.UTF8.GetBytes(ContractFiles.StatusExample));

        Assert.True(results.IsValid, ContractFiles.Describe(results));
    }

    [Fact]
    public void Last_will_is_exactly_v1_offline()
    {
        var written = JsonSerializer.Serialize(StatusMessage.LastWill, ContractJsonContext.Default.StatusMessage);

        Assert.Equal("""{"v":1,"state":"offline"}""", written);
    }

    [Fact]
    public void Last_will_is_accepted_by_the_validator_and_the_schema()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(StatusMessage.LastWill, ContractJsonContext.Default.StatusMessage);

        var result = validator.ValidateStatus(ContractFiles.StatusTopic, bytes);
        var schema = ContractFiles.Evaluate(ContractFiles.StatusSchema, bytes);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(StatusMessage.Offline, result.Value!.State);
        Assert.Null(result.Value.Ts);
        Assert.True(schema.IsValid, ContractFiles.Describe(schema));
    }

    [Fact]
    public void Unknown_fields_and_kinds_are_allowed_as_extensions()
    {
        var bytes = BrokenPayloads.Batch(b =>
        {
            b["firmware"] = "esphome-2026.11";
            b["readings"]!.AsArray().Add(new JsonObject
            {
                ["ts"] = "2026-11-28T09:15:01.000Z",
                ["sensor"] = "light-hall",
                ["kind"] = "light",
                ["values"] = new JsonObject { ["illuminance_lux"] = 312.5 },
                ["quality"] = "good",
            });
        });

        var result = validator.ValidateReadings(ContractFiles.ReadingsTopic, bytes);
        var schema = ContractFiles.Evaluate(ContractFiles.ReadingsSchema, bytes);

        Assert.True(result.IsValid, result.Reason);
        Assert.True(schema.IsValid, ContractFiles.Describe(schema));
    }
}
