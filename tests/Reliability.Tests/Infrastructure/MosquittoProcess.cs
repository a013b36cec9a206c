using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
namespace NewTechPark.Edge.Reliability.Tests.Infrastructure;

/// <summary>
/// Debian's mosquitto on a fixed loopback port with persistence, so it can be stopped and started
/// again on the same port with the collector's session (and its queued messages) intact.
/// <paramref name="extraLines"/>: more configuration (a password file, an ACL), appended as given.
/// </summary>
public sealed class MosquittoProcess(int port, string directory, bool allowAnonymous = true, IReadOnlyList<string>? extraLines = null) : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];
    private readonly List<string> _history = [];
    private ChildProcess? _process;

    public int Port => port;

    public string Output => string.Join('\n', _history) + (_process?.Output ?? string.Empty);

    public async Task StartAsync()
    {
        var executable = Candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed; run ./test.sh as root (it installs it) or: apt-get install -y mosquitto");
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "mosquitto.conf");
        // set_tcp_nodelay: bursts of QoS 1 messages would wait 40 ms each (Nagle) without it.
        // max_queued_messages/max_queued_bytes 0: never drop what waits for the collector's session.
        // persistence: sessions and queued messages are saved at a clean stop and loaded at start.
        // user root: started as root, mosquitto would switch to the mosquitto user otherwise.
        await File.WriteAllTextAsync(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous {(allowAnonymous ? "true" : "false")}
            set_tcp_nodelay true
            persistence true
            persistence_location {directory}/
            autosave_interval 1
            max_queued_messages 0
            max_queued_bytes 0
            max_inflight_messages 0
            log_dest stdout
            log_type error
            log_type warning
            user root

            """ + string.Join('\n', extraLines ?? []) + "\n");
        _process = ChildProcess.Start("mosquitto", executable, ["-c", config]);
        try
        {
            await FreePort.WaitListeningAsync(port, TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"mosquitto did not start listening on {port}: {e.Message}\n{Output}");
        }
    }

    /// <summary>SIGTERM: mosquitto saves its persistence file and exits.</summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            await p.StopAsync(TimeSpan.FromSeconds(10));
            _history.Add(p.Output);
            await p.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
