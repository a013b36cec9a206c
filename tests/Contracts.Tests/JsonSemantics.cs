using System.Text.Json;
using System.Text.Json.Nodes;

namespace NewTechPark.Edge.Contracts.Tests;

/// <summary>
/// Compares JSON by meaning: objects by their set of properties whatever the order, numbers by value
/// (1234567.0 equals 1234567), and a property that is null equal to one that is missing.
/// </summary>
internal static class JsonSemantics
{
    /// <summary>Null when equal, otherwise the path of the first difference and what differs.</summary>
    public static string? FindDifference(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null ? null : $"{path}: expected {Show(expected)}, got {Show(actual)}";
        }

        switch (expected)
        {
            case JsonObject expectedObject when actual is JsonObject actualObject:
                foreach (var name in expectedObject.Select(p => p.Key).Union(actualObject.Select(p => p.Key)))
                {
                    var difference = FindDifference(
                        expectedObject.TryGetPropertyValue(name, out var e) ? e : null,
                        actualObject.TryGetPropertyValue(name, out var a) ? a : null,
                        $"{path}.{name}");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;

            case JsonArray expectedArray when actual is JsonArray actualArray:
                if (expectedArray.Count != actualArray.Count)
                {
                    return $"{path}: expected {expectedArray.Count} items, got {actualArray.Count}";
                }

                for (var i = 0; i < expectedArray.Count; i++)
                {
                    var difference = FindDifference(expectedArray[i], actualArray[i], $"{path}[{i}]");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;

            case JsonValue expectedValue when actual is JsonValue actualValue:
                return ValuesEqual(expectedValue, actualValue) ? null : $"{path}: expected {Show(expected)}, got {Show(actual)}";

            default:
                return $"{path}: expected {Show(expected)}, got {Show(actual)}";
        }
    }

    private static bool ValuesEqual(JsonValue expected, JsonValue actual)
    {
        var kind = expected.GetValueKind();
        if (kind != actual.GetValueKind())
        {
            return false;
        }

        return kind switch
        {
            JsonValueKind.Number when expected.TryGetValue<decimal>(out var e) && actual.TryGetValue<decimal>(out var a) => e == a,
            JsonValueKind.Number => expected.GetValue<double>().Equals(actual.GetValue<double>()),
            JsonValueKind.String => string.Equals(expected.GetValue<string>(), actual.GetValue<string>(), StringComparison.Ordinal),
            _ => true, // true, false: equal kinds are equal values
        };
    }

    private static string Show(JsonNode? node) => node?.ToJsonString() ?? "null/missing";
}
