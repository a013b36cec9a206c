using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using NewTechPark.Edge.Contracts.Validation;

namespace NewTechPark.Edge.Contracts.Serialization;

/// <summary>
/// Contract timestamps: UTC, ISO 8601, with milliseconds or finer, ending in <c>Z</c>
/// (<c>2026-11-28T09:15:02.100Z</c>). Anything else is refused with a reason.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new ContractFormatException(ContractRule.TimestampFormat, "a timestamp must be a string like 2026-11-28T09:15:02.100Z");
        }

        // The common case: the canonical form read straight from the UTF-8 bytes, no string made.
        if (!reader.HasValueSequence && !reader.ValueIsEscaped && UtcTimestamp.TryParseCanonical(reader.ValueSpan, out var canonical))
        {
            return canonical;
        }

        var text = reader.GetString()!;
        if (!UtcTimestamp.TryParse(text, out var value))
        {
            throw new ContractFormatException(
                ContractRule.TimestampFormat,
                $"timestamp '{Topics.ContractTopics.Printable(text)}' is not UTC ISO 8601 with milliseconds, like 2026-11-28T09:15:02.100Z");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<byte> buffer = stackalloc byte[32];
        var length = UtcTimestamp.Format(value, buffer);
        writer.WriteStringValue(buffer[..length]);
    }
}

/// <summary>The nullable form of <see cref="UtcTimestampConverter"/>.</summary>
public sealed class NullableUtcTimestampConverter : JsonConverter<DateTimeOffset?>
{
    private static readonly UtcTimestampConverter Inner = new();

    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : Inner.Read(ref reader, typeof(DateTimeOffset), options);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            Inner.Write(writer, value.Value, options);
        }
    }
}

/// <summary>Parsing and formatting of contract timestamps.</summary>
public static class UtcTimestamp
{
    /// <summary>Parses <c>yyyy-MM-ddTHH:mm:ss.fff[ffffff]Z</c>; finer than 100 ns is truncated.</summary>
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        // yyyy-MM-ddTHH:mm:ss. = 20 characters, then 3 to 9 digits, then Z.
        if (text.Length is < 24 or > 30 || text[^1] != 'Z' || text[10] != 'T' || text[19] != '.')
        {
            return false;
        }

        var fraction = text.AsSpan(20, text.Length - 21);
        foreach (var c in fraction)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        var head = text.AsSpan(0, 19);
        if (!DateTime.TryParseExact(head, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var seconds))
        {
            return false;
        }

        long ticks = 0;
        for (var i = 0; i < 7; i++)
        {
            ticks = ticks * 10 + (i < fraction.Length ? fraction[i] - '0' : 0);
        }

        value = new DateTimeOffset(seconds.Ticks + ticks, TimeSpan.Zero);
        return true;
    }

    /// <summary>
    /// Parses only the canonical UTF-8 form, every field plain ASCII digits at its place and in
    /// range (<c>2026-11-28T09:15:02.100Z</c>), without allocating. False means "not proven
    /// canonical", not "invalid": callers then ask <see cref="TryParse(string, out DateTimeOffset)"/>,
    /// which has the final word, so both accept exactly the same texts.
    /// </summary>
    public static bool TryParseCanonical(ReadOnlySpan<byte> utf8, out DateTimeOffset value)
    {
        value = default;
        if (utf8.Length is < 24 or > 30 || utf8[^1] != (byte)'Z' || utf8[4] != (byte)'-' || utf8[7] != (byte)'-' || utf8[10] != (byte)'T'
            || utf8[13] != (byte)':' || utf8[16] != (byte)':' || utf8[19] != (byte)'.')
        {
            return false;
        }

        if (!TryDigits(utf8, 0, 4, out var year) || !TryDigits(utf8, 5, 2, out var month) || !TryDigits(utf8, 8, 2, out var day)
            || !TryDigits(utf8, 11, 2, out var hour) || !TryDigits(utf8, 14, 2, out var minute) || !TryDigits(utf8, 17, 2, out var second)
            || !TryDigits(utf8, 20, utf8.Length - 21, out _))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        long ticks = 0;
        for (var i = 0; i < 7; i++)
        {
            ticks = ticks * 10 + (20 + i < utf8.Length - 1 ? utf8[20 + i] - '0' : 0);
        }

        value = new DateTimeOffset(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + ticks, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> utf8, int start, int length, out int number)
    {
        number = 0;
        foreach (var b in utf8.Slice(start, length))
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            // At most 9 fraction digits: no overflow that matters (only the date fields are used).
            number = unchecked(number * 10 + (b - '0'));
        }

        return true;
    }

    /// <summary>Writes milliseconds, or 100 ns resolution when the value has finer detail.</summary>
    public static int Format(DateTimeOffset value, Span<byte> destination)
    {
        var utc = value.UtcDateTime;
        var format = utc.Ticks % TimeSpan.TicksPerMillisecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss.fff'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
        utc.TryFormat(destination, out var written, format, CultureInfo.InvariantCulture);
        return written;
    }

    public static string Format(DateTimeOffset value)
    {
        Span<byte> buffer = stackalloc byte[32];
        var length = Format(value, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..length]);
    }
}
