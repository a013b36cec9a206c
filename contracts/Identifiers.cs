namespace NewTechPark.Edge.Contracts;

/// <summary>The identifier and value-name rules of CONTRACT.md.</summary>
/// <remarks>
/// Checked by hand rather than with the regular expressions they are documented as: these run for
/// every reading on the ingest path, and .NET's <c>$</c> would also accept a trailing newline.
/// </remarks>
public static class Identifiers
{
    public const string SlugPattern = "^[a-z0-9][a-z0-9-]{0,62}$";
    public const string ValueNamePattern = "^[a-z][a-z0-9_]{0,62}$";
    public const int MaxLength = 63;

    /// <summary>Unit suffixes a value name must end in.</summary>
    public static readonly IReadOnlyList<string> UnitSuffixes =
        ["_v", "_a", "_w", "_wh", "_c", "_pct", "_hpa", "_ppm", "_lux", "_total"];

    /// <summary>
    /// Dimensionless counts that the contract's own examples use without a unit suffix: a door
    /// reading's crossings since the previous reading.
    /// </summary>
    public static readonly IReadOnlyList<string> CountNames = ["in", "out"];

    /// <summary><c>^[a-z0-9][a-z0-9-]{0,62}$</c></summary>
    public static bool IsSlug(string? value)
    {
        if (value is null || value.Length is 0 or > MaxLength || !IsLowerOrDigit(value[0]))
        {
            return false;
        }

        for (var i = 1; i < value.Length; i++)
        {
            if (!IsLowerOrDigit(value[i]) && value[i] != '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><c>^[a-z][a-z0-9_]{0,62}$</c></summary>
    public static bool IsValueName(string? value)
    {
        if (value is null || value.Length is 0 or > MaxLength || value[0] is < 'a' or > 'z')
        {
            return false;
        }

        for (var i = 1; i < value.Length; i++)
        {
            if (!IsLowerOrDigit(value[i]) && value[i] != '_')
            {
                return false;
            }
        }

        return true;
    }

    public static bool HasUnitSuffix(string valueName)
    {
        foreach (var suffix in UnitSuffixes)
        {
            if (valueName.EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return CountNames.Contains(valueName);
    }

    /// <summary>True for a counter, which only goes up (<c>*_total</c>).</summary>
    public static bool IsCounter(string valueName) => valueName.EndsWith("_total", StringComparison.Ordinal);

    private static bool IsLowerOrDigit(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
