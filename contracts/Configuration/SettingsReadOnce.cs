namespace NewTechPark.Edge.Contracts.Configuration;

/// <summary>
/// Both programs read their settings once, at start, where every section is validated. The
/// default host would also watch each appsettings file for changes: nothing here consumes a
/// change (an edit would apply unvalidated, half-way), and every watcher costs one of the
/// 128 inotify instances a Linux user has by default, which hosts built by the hundred in one
/// test process, or a Pi running several services, run out of.
/// </summary>
public static class SettingsReadOnce
{
    public const string Switch = "--hostBuilder:reloadConfigOnChange=false";

    /// <summary>The command line with file watching switched off; later arguments still win.</summary>
    public static string[] Arguments(IEnumerable<string> args) => [Switch, .. args];
}
