using System.Text.Json;

namespace NewTechPark.Edge.Contracts.Validation;

/// <summary>Every rule of CONTRACT.md that a message can break. A rejection names the rules it broke.</summary>
public enum ContractRule
{
    /// <summary>More than 256 KiB.</summary>
    MessageTooLarge,

    /// <summary>Not UTF-8 JSON of the expected shape (wrong types, missing required fields, names twice).</summary>
    MalformedJson,

    /// <summary>Not <c>ntp/v1/{site}/{device}/readings|status</c> with slug ids.</summary>
    InvalidTopic,

    /// <summary><c>v</c> is not 1.</summary>
    UnsupportedVersion,

    /// <summary>A <c>seq</c> of 2^63 or more: the contract's seq is unsigned 64-bit below 2^63, so it is stored and summed without overflow.</summary>
    SeqOutOfRange,

    /// <summary>A batch without readings.</summary>
    EmptyBatch,

    /// <summary>More than 1,000 readings in one batch.</summary>
    TooManyReadings,

    /// <summary>A timestamp that is not UTC ISO 8601 with milliseconds or finer.</summary>
    TimestampFormat,

    /// <summary>A reading more than 5 minutes in the future or more than 400 days in the past.</summary>
    TimestampOutOfRange,

    /// <summary>A sensor id (or another id) that is not a slug.</summary>
    InvalidIdentifier,

    /// <summary>A kind that is not a slug.</summary>
    InvalidKind,

    /// <summary>A value name that does not match <c>^[a-z][a-z0-9_]{0,62}$</c>.</summary>
    InvalidValueName,

    /// <summary>A value name that does not end in its unit.</summary>
    ValueNameWithoutUnit,

    /// <summary>A value that is a string, boolean, object or null.</summary>
    NonNumericValue,

    /// <summary>A value that is NaN or infinite (or overflows a double).</summary>
    NonFiniteValue,

    /// <summary>More than 32 values in one reading.</summary>
    TooManyValues,

    /// <summary>A reading other than a badge scan without values.</summary>
    MissingValues,

    /// <summary>A counter (<c>*_total</c>) or a door count below zero, or a count that is not whole.</summary>
    InvalidCount,

    /// <summary>A door reading without <c>in</c>, <c>out</c>, <c>in_total</c> and <c>out_total</c>.</summary>
    IncompleteDoorReading,

    /// <summary>A badge reading without a 22-character base64url pseudonym.</summary>
    InvalidVisitorPseudonym,

    /// <summary>A status whose state is neither online nor offline, or an online status without <c>ts</c>.</summary>
    InvalidStatus,
}

/// <summary>One broken rule and the sentence that explains it.</summary>
public sealed record ContractViolation(ContractRule Rule, string Message)
{
    public override string ToString() => $"{Rule}: {Message}";
}

/// <summary>Thrown by the contract's JSON converters; carries the rule that was broken.</summary>
public sealed class ContractFormatException(ContractRule rule, string message) : JsonException(message)
{
    public ContractRule Rule { get; } = rule;
}

/// <summary>The limits of CONTRACT.md.</summary>
public static class ContractLimits
{
    public const int MaxMessageBytes = 256 * 1024;
    public const int MaxReadingsPerBatch = 1000;
    public const int MaxValuesPerReading = 32;
    public const int VisitorPseudonymLength = 22;

    /// <summary>The largest <c>seq</c>: 2^63 - 1 (signed 64-bit storage and sums never overflow below it).</summary>
    public const ulong MaxSeq = long.MaxValue;
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(400);
}
