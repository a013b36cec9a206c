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
