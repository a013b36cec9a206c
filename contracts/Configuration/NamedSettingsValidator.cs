using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Contracts.Configuration;

/// <summary>
/// Runs an options validator that the source generator wrote (<c>[OptionsValidator]</c>: the
/// [Required] and [Range] attributes of a section and of every section below it, with no
/// reflection, so NativeAOT keeps it) and turns the member paths of its messages into the
/// configuration paths a person types (<c>Collector.Broker.Port</c> becomes <c>Collector:Broker:Port</c>).
/// </summary>
/// <param name="section">Where the options bind, such as <c>Collector</c> or <c>Agent:Simulation</c>.</param>
public sealed class NamedSettingsValidator<TOptions, TGenerated>(string section) : IValidateOptions<TOptions>
    where TOptions : class
    where TGenerated : IValidateOptions<TOptions>, new()
{
    private readonly TGenerated _generated = new();
    private readonly string _root = section.Split(':')[0];

    public ValidateOptionsResult Validate(string? name, TOptions options) =>
        _generated.Validate(section.Replace(':', '.'), options) is { Failed: true } failed
            ? ValidateOptionsResult.Fail(failed.Failures!.Select(f => SettingPaths.Rewrite(f, _root)))
            : ValidateOptionsResult.Success;
}
