using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Agent.Tests.Support;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>Readers wait for a synchronised clock on a Pi without RTC.</summary>
public sealed class ClockSyncTests
{
    [Fact]
    public void The_kernel_answers_without_throwing()
    {
        // adjtimex answers on Linux (a VM without NTP says unsynchronised: false is a real answer).
        var state = ClockSync.IsSynchronised();
        Assert.True(state is not null || !OperatingSystem.IsLinux(), "adjtimex gave no answer on Linux");
    }

    [Fact]
    public async Task Waiting_ends_when_the_clock_becomes_synchronised()
    {
        var checks = 0;
        var synced = await ClockSync.WaitAsync(() => ++checks >= 3, TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(synced);
        Assert.Equal(3, checks);
    }

    [Fact]
    public async Task Waiting_gives_up_after_the_timeout()
    {
        var clock = TestClock.Create();
        var wait = ClockSync.WaitAsync(() => false, TimeSpan.FromMinutes(5), clock, CancellationToken.None);

        // The fake clock fires the one-second waits as it is moved on; past 5 minutes the wait gives up.
        for (var step = 0; step < 100_000 && !wait.IsCompleted; step++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }

        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(clock.GetUtcNow() - TestClock.Start >= TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task An_unknown_state_does_not_hold_the_sensors_back() =>
        Assert.True(await ClockSync.WaitAsync(() => null, TimeSpan.FromMinutes(5), TimeProvider.System, CancellationToken.None));
}
