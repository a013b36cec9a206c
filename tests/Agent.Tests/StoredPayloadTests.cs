using System.Text;
using NewTechPark.Edge.Agent.State;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>Outbox payloads are kept compressed (the SD-card budget) and read back exactly.</summary>
public sealed class StoredPayloadTests
{
    [Fact]
    public void A_readings_batch_shrinks_and_comes_back_byte_for_byte()
    {
        var json = new StringBuilder("{\"v\":1,\"seq\":18446,\"sent\":\"2026-11-28T09:15:02.120Z\",\"readings\":[");
        for (var i = 0; i < 80; i++)
        {
            json.Append(i == 0 ? string.Empty : ",")
                .Append("{\"ts\":\"2026-11-28T09:15:0").Append(i % 10).Append('.').Append(100 + i).Append("Z\",\"sensor\":\"dc-bench-").Append(i % 4)
                .Append("\",\"kind\":\"dc\",\"values\":{\"voltage_v\":24.0").Append(i % 10).Append(",\"current_a\":1.5").Append(i).Append(",\"power_w\":36.").Append(i).Append("}}");
        }

        var payload = Encoding.UTF8.GetBytes(json.Append("]}").ToString());
        var stored = StoredPayload.Pack(payload);

        Assert.True(stored.Length * 3 < payload.Length, $"{payload.Length} bytes stored as {stored.Length}");
        Assert.Equal(payload, StoredPayload.Unpack(stored, payload.Length));
    }

    [Fact]
    public void Plain_payloads_of_older_files_are_read_as_they_are()
    {
        var payload = "{\"v\":1,\"seq\":1,\"sent\":\"2026-11-28T09:15:02.120Z\",\"readings\":[]}"u8.ToArray();
        Assert.Equal(payload, StoredPayload.Unpack(payload, payload.Length));
    }

    [Fact]
    public void A_payload_that_does_not_decompress_to_its_length_is_refused()
    {
        var stored = StoredPayload.Pack(Encoding.UTF8.GetBytes(new string('x', 1000)));
        Assert.Throws<InvalidDataException>(() => StoredPayload.Unpack(stored, 999));
    }
}
