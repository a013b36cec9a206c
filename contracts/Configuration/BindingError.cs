namespace NewTechPark.Edge.Contracts.Configuration;

/// <summary>For both programs: the configuration binder's refusal of a value it cannot convert, as a line that names the setting.</summary>
public static class BindingError
{
    /// <summary>
    /// The binder says "Failed to convert configuration value '…' at 'Collector:Ingest:ReceiveMaximum'
    /// to type 'System.Int32'", which already names the setting; null for any other exception.
    /// </summary>
    public static string? Explain(Exception e) =>
        e is InvalidOperationException && e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            ? e.Message.TrimEnd('.') + (e.InnerException is { } inner ? $" ({inner.Message.TrimEnd('.')})" : string.Empty)
            : null;
}
