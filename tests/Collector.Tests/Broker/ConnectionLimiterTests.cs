using System.Net;
using NewTechPark.Edge.Collector.Broker.Transport;

namespace NewTechPark.Edge.Collector.Tests.Broker;

public sealed class ConnectionLimiterTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.5");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.6");

    [Fact]
    public void An_address_gets_its_cap_and_no_more_while_others_still_get_in()
    {
        var limiter = new ConnectionLimiter(maxConnections: 10, maxPerAddress: 2);

        Assert.Null(limiter.TryAdmit(A));
        Assert.Null(limiter.TryAdmit(A));
        Assert.Equal("too_many_from_address", limiter.TryAdmit(A));
        Assert.Null(limiter.TryAdmit(B));
        Assert.Equal(3, limiter.Open);

        limiter.Release(A);
        Assert.Null(limiter.TryAdmit(A));
    }

    [Fact]
    public void The_total_cap_holds_across_addresses_and_frees_on_release()
    {
        var limiter = new ConnectionLimiter(maxConnections: 3, maxPerAddress: 3);
        Assert.Null(limiter.TryAdmit(A));
        Assert.Null(limiter.TryAdmit(A));
        Assert.Null(limiter.TryAdmit(B));

        Assert.Equal("too_many_connections", limiter.TryAdmit(IPAddress.Parse("10.0.0.7")));
        limiter.Release(B);
        Assert.Null(limiter.TryAdmit(IPAddress.Parse("10.0.0.7")));
    }

    [Fact]
    public void An_ipv4_peer_on_a_dual_stack_socket_counts_as_its_ipv4_address()
    {
        var limiter = new ConnectionLimiter(maxConnections: 10, maxPerAddress: 1);
        Assert.Null(limiter.TryAdmit(A));
        Assert.Equal("too_many_from_address", limiter.TryAdmit(A.MapToIPv6()));
    }
}
