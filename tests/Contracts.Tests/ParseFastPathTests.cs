using System.Text;
using NewTechPark.Edge.Contracts.Serialization;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>
/// The ingest's fast paths (timestamps read from UTF-8 bytes, a payload read in one pass) must
/// accept and refuse exactly what the general paths do, with the same messages.
/// </summary>
public sealed class ParseFastPathTests
{
    [Theory]
    [InlineData("2026-11-28T09:15:02.100Z")]
    [InlineData("2026-11-28T09:15:02.123456789Z")]
    [InlineData("2024-02-29T23:59:59.999Z")]
    [InlineData("2026-02-29T12:00:00.000Z")]
    [InlineData("2026-04-31T12:00:00.000Z")]
    [InlineData("2026-00-10T12:00:00.000Z")]
    [InlineData("2026-13-10T12:00:00.000Z")]
    [InlineData("2026-11-00T12:00:00.000Z")]
    [InlineData("2026-11-28T24:00:00.000Z")]
    [InlineData("2026-11-28T23:60:00.000Z")]
    [InlineData("2026-11-28T23:59:60.000Z")]
    [InlineData("0000-01-01T00:00:00.000Z")]
    [InlineData("0001-01-01T00:00:00.000Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    [InlineData("2026-11-28T09:15:02.10Z")]
    [InlineData("2026-11-28T09:15:02.1234567890Z")]
    [InlineData("2026-11-28T09:15:02.1x0Z")]
    [InlineData("2026-11-28T09:15:02,100Z")]
    [InlineData("+026-11-28T09:15:02.100Z")]
    [InlineData("2026-1a-28T09:15:02.100Z")]
    [InlineData("2026-11-28T09:15:02.100z")]
    [InlineData("２026-11-28T09:15:02.100Z")]
    public void The_canonical_fast_path_never_disagrees_with_TryParse(string text)
    {
        var general = UtcTimestamp.TryParse(text, out var expected);

        var fast = UtcTimestamp.TryParseCanonical(Encoding.UTF8.GetBytes(text), out var value);

        // The fast path may decline (the general path then decides), but what it accepts the general path accepts, with the same value.
        if (fast)
        {
            Assert.True(general);
            Assert.Equal(expected, value);
        }

        // Every plain canonical text that TryParse accepts is taken by the fast path.
        if (general && text.All(char.IsAscii))
        {
            Assert.True(fast);
        }
    }

    [Theory]
    [InlineData("""{"v":1,"seq":1,"sent":"TS","readings":[{"ts":"TS","sensor":"a","kind":"dc","values":{"voltage_v":1}}]} trailing""", false,
        "MalformedJson: 't' is invalid after a single JSON value. Expected end of data. LineNumber: 0 | BytePositionInLine: 147.")]
    [InlineData("""{"v":1,"seq":1,"sent":"TS","readings":[{"ts":"TS","sensor":"a","kind":"dc","values":{"voltage_v":1}}]}{"v":1}""", false,
        "MalformedJson: '{' is invalid after a single JSON value. Expected end of data. LineNumber: 0 | BytePositionInLine: 146.")]
    [InlineData("""{"v":1,"seq":1,"sent":"TS","readings":[{"ts":"TS","sensor":"a","kind":"dc","values":{"voltage_v":1}}]}   """, true, "")]
    [InlineData("""{"v":1,"seq":1,"sent":"TS","readings":[{"ts":"TS","sensor":5,"kind":"dc","values":{"voltage_v":1}}]}""", false,
        "MalformedJson: The JSON value could not be converted to NewTechPark.Edge.Contracts.Payloads.Reading. Path: $.readings[0].sensor | LineNumber: 0 | BytePositionInLine: 104.")]
    [InlineData("""{"v":1,"seq":1,"sent":"TS","readings":[{"ts":"TS","sensor":"a","kind":"dc","values":{"voltage_v":1}},x]}""", false,
        "MalformedJson: 'x' is an invalid start of a value. Path: $ | LineNumber: 0 | BytePositionInLine: 145.")]
    [InlineData("""{"v":1,"seq":1,"sent":"TS","readings":[{"ts":"TS","sensor":"a","kind":"dc","values":{"volt\u0061ge_v":1,"in":"2"}}]}""", false,
        "NonNumericValue: values.in must be a number, not string (at $.readings[0].values)")]
    [InlineData("null", false, "MalformedJson: message is JSON null")]
    public void A_payload_gets_the_verdict_and_message_of_the_scoped_reader(string template, bool valid, string reason)
    {
        var ts = ContractClock.Now.AddSeconds(-3);
        var validator = new ContractValidator(ContractClock.Create());
        var payload = Encoding.UTF8.GetBytes(template.Replace("TS", UtcTimestamp.Format(ts), StringComparison.Ordinal));

        var result = validator.ValidateReadings("ntp/v1/newtechpark/pi-entrance/readings", payload.AsMemory());

        Assert.Equal(valid, result.IsValid);
        Assert.Equal(reason, result.Reason);
    }
}
