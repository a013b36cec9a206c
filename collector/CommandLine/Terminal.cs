using Spectre.Console;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// Spectre.Console on a writer: colours and box tables on a terminal; on redirected output (a
/// pipe, a file, a test) or with <c>NO_COLOR</c> set, plain text with no ANSI escape, so scripts and
/// logs read it as it is. Data goes to standard output; progress and notes to standard error.
/// </summary>
public static class Terminal
{
    /// <summary>Width of plain output: wide enough that a table's rows never wrap in a log.</summary>
    public const int PlainWidth = 200;

    /// <summary>True when <paramref name="writer"/> is the process's own standard output on a terminal.</summary>
    public static bool IsTerminal(TextWriter writer) =>
        (ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected) || (ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected);

    public static bool NoColor => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public static IAnsiConsole Create(TextWriter writer)
    {
        var terminal = IsTerminal(writer);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal && !NoColor ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!terminal)
        {
            console.Profile.Width = PlainWidth;
        }

        return console;
    }

    /// <summary>A table that is boxed on a terminal and plain aligned columns (as <c>kubectl get</c>) otherwise.</summary>
    public static Table Table(TextWriter writer, params string[] columns)
    {
        var table = new Table { Border = IsTerminal(writer) ? TableBorder.Rounded : TableBorder.None };
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(column));
        }

        return table;
    }
}
