using System.Text.Json;
using System.Text.Json.Serialization;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Contracts.Serialization;

/// <summary>
/// A reading's <c>values</c>: an object of finite numbers, at most
/// <see cref="ContractLimits.MaxValuesPerReading"/>, no name twice. Refuses strings, NaN and
/// Infinity with the rule they break.
/// </summary>
public sealed class ReadingValuesConverter : JsonConverter<Dictionary<string, double>>
{
    public override Dictionary<string, double> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new ContractFormatException(ContractRule.NonNumericValue, "values must be an object of numbers");
        }

        var values = new Dictionary<string, double>(4, StringComparer.Ordinal);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return values;
            }

            var name = KnownName(ref reader) ?? reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number)
            {
                throw new ContractFormatException(
                    ContractRule.NonNumericValue,
                    $"values.{Topics.ContractTopics.Printable(name)} must be a number, not {reader.TokenType.ToString().ToLowerInvariant()}");
            }

            if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                throw new ContractFormatException(ContractRule.NonFiniteValue, $"values.{Topics.ContractTopics.Printable(name)} is not a finite number");
            }

            if (values.Count == ContractLimits.MaxValuesPerReading)
            {
                throw new ContractFormatException(ContractRule.TooManyValues, $"a reading has more than {ContractLimits.MaxValuesPerReading} values");
            }

            if (!values.TryAdd(name, number))
            {
                throw new ContractFormatException(ContractRule.MalformedJson, $"values.{Topics.ContractTopics.Printable(name)} appears twice");
            }
        }

        throw new ContractFormatException(ContractRule.MalformedJson, "values object is not closed");
    }

    /// <summary>The value names of the contract's own kinds, so the common names cost no string each time.</summary>
    private static readonly (byte[] Utf8, string Name)[] KnownNames = [.. new[]
    {
        ReadingKinds.DoorValues.In, ReadingKinds.DoorValues.Out, ReadingKinds.DoorValues.InTotal, ReadingKinds.DoorValues.OutTotal,
        ReadingKinds.EnergyValues.PowerW, ReadingKinds.EnergyValues.EnergyWhTotal,
        ReadingKinds.DcValues.VoltageV, ReadingKinds.DcValues.CurrentA,
    }.Select(name => (System.Text.Encoding.UTF8.GetBytes(name), name))];

    private static string? KnownName(ref Utf8JsonReader reader)
    {
        if (reader.HasValueSequence || reader.ValueIsEscaped)
        {
            return null;
        }

        var span = reader.ValueSpan;
        foreach (var (utf8, name) in KnownNames)
        {
            if (span.SequenceEqual(utf8))
            {
                return name;
            }
        }

        return null;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, double> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, number) in value)
        {
            if (!double.IsFinite(number))
            {
                throw new ArgumentException($"values.{name} is not finite; the contract allows finite numbers only", nameof(value));
            }

            writer.WriteNumber(name, number);
        }

        writer.WriteEndObject();
    }
}
