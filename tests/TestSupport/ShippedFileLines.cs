namespace NewTechPark.Edge.TestSupport;

/// <summary>A shipped configuration file adapted for a test by replacing whole lines.</summary>
public static class ShippedFileLines
{
    /// <summary>
    /// Replaces whole lines of <paramref name="text"/> (null removes the line). Each line must be
    /// there exactly once: if the shipped file (<paramref name="file"/>, for the message) changes,
    /// this says so instead of testing something else.
    /// </summary>
    public static string Replace(string text, IReadOnlyDictionary<string, string?> replacements, string file)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        foreach (var (original, replacement) in replacements)
        {
            var found = lines.Count(l => l.Trim() == original);
            if (found != 1)
            {
                throw new InvalidOperationException($"{file} has the line '{original}' {found} times instead of once; update the test with the file");
            }

            var index = lines.FindIndex(l => l.Trim() == original);
            if (replacement is null)
            {
                lines.RemoveAt(index);
            }
            else
            {
                lines[index] = replacement;
            }
        }

        return string.Join('\n', lines);
    }
}
