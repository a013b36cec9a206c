namespace NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Debian's mosquitto, started on a free loopback port with a configuration of its own, and
/// stopped when disposed. Fails with a clear message when mosquitto is not installed: these tests
/// never skip silently.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

    private readonly ChildProcess _process;
    private readonly string _directory;

    private MosquittoBroker(ChildProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Output => _process.Output;

    public static string FindExecutable() =>
        Candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            "mosquitto is not installed; the tests against Debian's Mosquitto need it. Run ./test.sh as root (it installs it) or: apt-get install -y mosquitto");

    public static async Task<MosquittoBroker> StartAsync()
    {
        var executable = FindExecutable();
        var port = FreePort.Next();
        var directory = Directory.CreateTempSubdirectory("ntp-mosquitto-").FullName;
        var config = Path.Combine(directory, "mosquitto.conf");
        // set_tcp_nodelay: without it bursts of QoS 1 messages wait 40 ms each (Nagle).
        // max_queued_messages: the default of 1,000 drops messages for a subscriber that is away.
        // user root: started as root, mosquitto would switch to the mosquitto user otherwise.
        await File.WriteAllTextAsync(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            set_tcp_nodelay true
            persistence false
            max_queued_messages 1000000
            max_inflight_messages 0
            log_dest stdout
            log_type error
            log_type warning
            user root

            """);
        var broker = new MosquittoBroker(ChildProcess.Start("mosquitto", executable, ["-c", config]), directory, port);
        try
        {
            await FreePort.WaitListeningAsync(port, TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            await broker.DisposeAsync();
            throw new InvalidOperationException($"mosquitto did not start listening on {port}: {e.Message}\n{broker.Output}");
        }

        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
