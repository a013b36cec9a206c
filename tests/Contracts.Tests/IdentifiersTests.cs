namespace NewTechPark.Edge.Contracts.Tests;

public sealed class IdentifiersTests
{
    [Theory]
    [InlineData("abc\n")]
    [InlineData("")]
    [InlineData("-abc")]
    [InlineData("Door_Main")]
    [InlineData("door main")]
    [InlineData(null)]
    public void IsSlug_rejects(string? value) => Assert.False(Identifiers.IsSlug(value));

    [Fact]
    public void IsSlug_rejects_64_characters() => Assert.False(Identifiers.IsSlug(new string('a', 64)));

    [Theory]
    [InlineData("a")]
    [InlineData("door-main")]
    [InlineData("0-9")]
    public void IsSlug_accepts(string value) => Assert.True(Identifiers.IsSlug(value));

    [Fact]
    public void IsSlug_accepts_63_characters() => Assert.True(Identifiers.IsSlug("a" + new string('-', 62)));

    [Theory]
    [InlineData("power_w", true)]
    [InlineData("in", true)]
    [InlineData("Power_W", false)]
    [InlineData("_power_w", false)]
    [InlineData("power_w\n", false)]
    public void IsValueName(string value, bool expected) => Assert.Equal(expected, Identifiers.IsValueName(value));

    [Theory]
    [InlineData("energy_wh_total", true)]
    [InlineData("humidity_pct", true)]
    [InlineData("in", true)]
    [InlineData("out", true)]
    [InlineData("power", false)]
    [InlineData("inside", false)]
    public void HasUnitSuffix(string value, bool expected) => Assert.Equal(expected, Identifiers.HasUnitSuffix(value));
}
