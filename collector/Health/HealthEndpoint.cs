using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Storage;

namespace NewTechPark.Edge.Collector.Health;

/// <summary>
/// <c>/healthz</c>: one check per concern (store, disk, broker, ingest queue, InfluxDB queue,
/// devices). Healthy and degraded answer 200, unhealthy 503 (so a load balancer or systemd
/// watchdog acts only on real trouble); the JSON body names every check.
/// </summary>
public static class HealthEndpoint
{
    public const string Path = "/healthz";

    public static IServiceCollection AddCollectorHealth(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<CollectorOptions>, HealthOptionsValidator>();
        services.AddSingleton<IFreeSpaceProvider, DriveFreeSpace>();
        services.AddSingleton<StoreProbe>();
        services.AddHealthChecks()
            .AddCheck<StoreWritableCheck>("store")
            .AddCheck<DiskSpaceCheck>("disk")
            .AddCheck<BrokerCheck>("broker")
            .AddCheck<IngestQueueCheck>("ingest_queue")
            .AddCheck<InfluxQueueCheck>("influx_queue")
            .AddCheck<DevicesOfflineCheck>("devices");
        return services;
    }

    public static IEndpointConventionBuilder MapCollectorHealth(this IEndpointRouteBuilder app) =>
        app.MapHealthChecks(Path, new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteAsync,
        });

    /// <summary><c>{"status":"Degraded","duration_ms":3.1,"checks":{"disk":{"status":…,"description":…,"duration_ms":…,"data":{…}},…}}</c></summary>
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("duration_ms", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description ?? entry.Exception?.Message);
            json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
            json.WriteStartObject("data");
            foreach (var (key, value) in entry.Data)
            {
                json.WritePropertyName(key);
                WriteValue(json, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    // The checks put only numbers, strings, booleans and string arrays in their data: no reflection needed (NativeAOT-safe).
    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case bool b: json.WriteBooleanValue(b); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case double d: json.WriteNumberValue(d); break;
            case IEnumerable<string> list:
                json.WriteStartArray();
                foreach (var item in list)
                {
                    json.WriteStringValue(item);
                }

                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }
}
