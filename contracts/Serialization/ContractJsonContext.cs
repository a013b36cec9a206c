using System.Text.Json.Serialization;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Contracts.Serialization;

/// <summary>Source-generated JSON for the wire types: no reflection, trimmable for the Pi.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false,
    MaxDepth = 16)]
[JsonSerializable(typeof(ReadingsBatch))]
[JsonSerializable(typeof(StatusMessage))]
public sealed partial class ContractJsonContext : JsonSerializerContext;
