using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

namespace NewTechPark.Edge.TestSupport;

/// <summary>One setting as a person writes it (<c>Collector:Ingest:ReceiveMaximum</c>), found by reflection on an options class.</summary>
public sealed record Setting(string Path, PropertyInfo Property, Type Type)
{
    public string Name => Property.Name;

    public override string ToString() => Path;
}

/// <summary>
/// Walks an options class to every setting below it and proposes values it must refuse, so that
/// a new setting cannot be added without a check (shared by the collector's and the agent's settings tests).
/// </summary>
public static class SettingsWalker
{
    public const string NotANumber = "not-a-number";

    /// <summary>Every leaf setting: numbers, strings, booleans, enums, durations; list items at index 0, dictionary entries under a name.</summary>
    public static IEnumerable<Setting> Leaves(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true))
        {
            var path = $"{prefix}:{property.Name}";
            var t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsLeaf(t))
            {
                yield return new Setting(path, property, t);
            }
            else if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                yield return new Setting($"{path}:example", property, t.GetGenericArguments()[1]);
            }
            else if (t.IsGenericType && typeof(IList).IsAssignableFrom(t))
            {
                var item = t.GetGenericArguments()[0];
                if (IsLeaf(item))
                {
                    yield return new Setting($"{path}:0", property, item);
                }
                else
                {
                    foreach (var leaf in Leaves(item, $"{path}:0"))
                    {
                        yield return leaf;
                    }
                }
            }
            else if (t.IsClass)
            {
                foreach (var leaf in Leaves(t, path))
                {
                    yield return leaf;
                }
            }
        }
    }

    /// <summary>Values a type cannot take at all: the binder must refuse them, naming the setting.</summary>
    public static IEnumerable<string> UnconvertibleValues(Setting setting) => setting.Type switch
    {
        var t when t == typeof(bool) => ["maybe"],
        var t when t == typeof(TimeSpan) => ["not-a-duration"],
        { IsEnum: true } => ["Sideways"],
        var t when t == typeof(int) || t == typeof(long) || t == typeof(double) => [NotANumber],
        _ => [],
    };

    /// <summary>Below the minimum and above the maximum of a [Range] attribute, and empty for [Required].</summary>
    public static IEnumerable<string> AttributeValues(Setting setting)
    {
        if (setting.Property.GetCustomAttribute<RangeAttribute>() is { OperandType: var operand } timeRange && operand == typeof(TimeSpan))
        {
            // [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]: a second below and above.
            var min = TimeSpan.Parse((string)timeRange.Minimum, CultureInfo.InvariantCulture);
            var max = TimeSpan.Parse((string)timeRange.Maximum, CultureInfo.InvariantCulture);
            yield return (min - TimeSpan.FromSeconds(1)).ToString("c", CultureInfo.InvariantCulture);
            yield return (max + TimeSpan.FromSeconds(1)).ToString("c", CultureInfo.InvariantCulture);
        }
        else if (setting.Property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            var min = Convert.ToDecimal(range.Minimum, CultureInfo.InvariantCulture);
            var max = Convert.ToDecimal(range.Maximum, CultureInfo.InvariantCulture);
            var limit = setting.Type == typeof(int) ? int.MaxValue : setting.Type == typeof(long) ? long.MaxValue : decimal.MaxValue;
            var floor = setting.Type == typeof(int) ? int.MinValue : setting.Type == typeof(long) ? long.MinValue : decimal.MinValue;
            var step = setting.Type == typeof(double) ? Math.Max(0.001m, Math.Abs(max - min) / 1000) : 1;
            if (min > floor)
            {
                yield return (min - step).ToString(CultureInfo.InvariantCulture);
            }

            if (max < limit)
            {
                yield return (max + step).ToString(CultureInfo.InvariantCulture);
            }
        }

        if (setting.Property.GetCustomAttribute<RequiredAttribute>() is not null)
        {
            yield return string.Empty;
        }
    }

    /// <summary>Every value a setting must refuse: unconvertible ones, ones its attributes forbid, a negative duration, and the test's own.</summary>
    public static IEnumerable<string> BadValues(Setting setting, IReadOnlyDictionary<string, string[]> custom)
    {
        var values = UnconvertibleValues(setting).Concat(AttributeValues(setting));
        if (setting.Type == typeof(TimeSpan))
        {
            values = values.Append("-00:00:01");
        }

        return values.Concat(custom.GetValueOrDefault(setting.Path, [])).Distinct();
    }

    /// <summary>
    /// Runs a program (<c>dotnet &lt;dll&gt;</c> from the test's output folder) to its end with
    /// <paramref name="args"/>: its exit code, its standard error, and everything it printed.
    /// </summary>
    public static async Task<(int Exit, string Stderr, string Printed)> RunProgramAsync(string dll, string workingDirectory, IEnumerable<string> args)
    {
        var (exit, stdout, stderr) = await ChildProcess.RunToEndAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, dll), .. args],
            TimeSpan.FromSeconds(60), workingDirectory);
        return (exit, stderr, stderr + stdout);
    }

    /// <summary>A number without [Range], or a string without [Required], needs bad values in the test's table, or a reason it has none.</summary>
    public static bool NeedsTable(Setting setting) =>
        setting.Type == typeof(string)
            ? setting.Property.GetCustomAttribute<RequiredAttribute>() is null || setting.Path.Contains(":0", StringComparison.Ordinal)
            : (setting.Type == typeof(int) || setting.Type == typeof(long) || setting.Type == typeof(double)) && setting.Property.GetCustomAttribute<RangeAttribute>() is null;

    private static bool IsLeaf(Type t) => t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(TimeSpan) || t == typeof(decimal);
}
