using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Contracts.Tests;

public sealed class ContractTopicsTests
{
    [Theory]
    [InlineData(TopicChannel.Readings, "ntp/v1/newtechpark/pi-entrance/readings")]
    [InlineData(TopicChannel.Status, "ntp/v1/newtechpark/pi-entrance/status")]
    public void Format_and_TryParse_round_trip(TopicChannel channel, string topic)
    {
        var formatted = ContractTopics.Format("newtechpark", "pi-entrance", channel);
        var parsed = ContractTopics.TryParse(formatted, out var address, out var reason);

        Assert.Equal(topic, formatted);
        Assert.True(parsed, reason);
        Assert.Equal(string.Empty, reason);
        Assert.Equal(new TopicAddress("newtechpark", "pi-entrance", channel), address);
        Assert.Equal(topic, address.ToString());
    }

    [Fact]
    public void Readings_and_Status_build_the_contract_topics()
    {
        Assert.Equal("ntp/v1/newtechpark/pi-entrance/readings", ContractTopics.Readings("newtechpark", "pi-entrance"));
        Assert.Equal("ntp/v1/newtechpark/pi-entrance/status", ContractTopics.Status("newtechpark", "pi-entrance"));
    }

    [Fact]
    public void DevicePrefix_is_the_devices_own_subtree()
    {
        var prefix = ContractTopics.DevicePrefix("newtechpark", "pi-entrance");

        Assert.Equal("ntp/v1/newtechpark/pi-entrance/", prefix);
        Assert.StartsWith(prefix, ContractTopics.Readings("newtechpark", "pi-entrance"), StringComparison.Ordinal);
        Assert.StartsWith(prefix, ContractTopics.Status("newtechpark", "pi-entrance"), StringComparison.Ordinal);
    }

    [Fact]
    public void Readings_with_a_site_that_is_not_a_slug_throws()
    {
        var error = Assert.Throws<ArgumentException>(() => ContractTopics.Readings("Bad Site", "x"));

        Assert.Equal("site", error.ParamName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ntp/v1/+/+/readings")]
    [InlineData("ntp/v1/newtechpark/pi-entrance/heartbeat")]
    [InlineData("ntp/v1/newtechpark/pi-entrance")]
    public void TryParse_refuses_other_topics_with_a_reason(string? topic)
    {
        var parsed = ContractTopics.TryParse(topic, out var address, out var reason);

        Assert.False(parsed);
        Assert.Equal(default, address);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Fact]
    public void Templates_and_filters_are_the_ones_in_CONTRACT_md()
    {
        var contract = ContractFiles.ContractMarkdown;

        Assert.Contains($"`{ContractTopics.ReadingsTemplate}`", contract, StringComparison.Ordinal);
        Assert.Contains($"`{ContractTopics.StatusTemplate}`", contract, StringComparison.Ordinal);
        Assert.True(ContractTopics.TryParse(ContractTopics.ReadingsTemplate.Replace("{site}", "s").Replace("{device}", "d"), out _, out _));
        Assert.Equal("ntp/v1/+/+/readings", ContractTopics.AllReadingsFilter);
        Assert.Equal("ntp/v1/+/+/status", ContractTopics.AllStatusFilter);
    }
}
