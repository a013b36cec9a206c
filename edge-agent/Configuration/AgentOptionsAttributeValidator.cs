using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts.Configuration;

namespace NewTechPark.Edge.Agent.Configuration;

/// <summary>
/// The [Required] and [Range] attributes of <see cref="AgentOptions"/>, checked by code the options
/// source generator writes at build time: <c>ValidateDataAnnotations</c> walks the properties by
/// reflection, which trimming and NativeAOT cannot follow. The rules that need code are in
/// <see cref="AgentOptionsValidator"/>.
/// </summary>
[OptionsValidator]
public sealed partial class AgentOptionsAttributeValidator : IValidateOptions<AgentOptions>;

/// <summary>Runs <see cref="AgentOptionsAttributeValidator"/> with the section's name, so that its messages name configuration paths (<c>Agent:Broker:Port</c>).</summary>
public sealed class AgentOptionsAttributes : IValidateOptions<AgentOptions>
{
    private readonly AgentOptionsAttributeValidator _generated = new();

    public ValidateOptionsResult Validate(string? name, AgentOptions options) =>
        _generated.Validate(AgentOptions.Section, options) is { Failed: true } failed
            ? ValidateOptionsResult.Fail(failed.Failures!.Select(f => SettingPaths.Rewrite(f, AgentOptions.Section)))
            : ValidateOptionsResult.Success;
}
