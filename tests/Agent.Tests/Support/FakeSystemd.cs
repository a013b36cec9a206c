using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace NewTechPark.Edge.Agent.Tests.Support;

/// <summary>
/// What systemd gives a Type=notify service with a watchdog, in a temporary folder: a Unix
/// datagram socket for NOTIFY_SOCKET whose messages (READY=1, WATCHDOG=1, STOPPING=1) a test
/// awaits, and a launcher named <c>systemd</c> (a copy of /bin/sh) as the program's parent, which
/// is how Microsoft.Extensions.Hosting.Systemd 10 recognises a systemd service.
/// </summary>
public sealed class FakeSystemd : IAsyncDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    public FakeSystemd()
    {
        SocketPath = Path.Combine(_folder.Path, "notify");
        _socket.Bind(new UnixDomainSocketEndPoint(SocketPath));
        Launcher = Path.Combine(_folder.Path, "systemd");
        File.Copy("/bin/sh", Launcher); // keeps the executable mode
        _receiving = Task.Run(ReceiveAsync);
    }

    public string SocketPath { get; }

    /// <summary>A shell named systemd: run the program as its child (not exec'd), so the program's parent is "systemd".</summary>
    public string Launcher { get; }

    /// <summary>The launcher's arguments that run <paramref name="program"/> with <paramref name="args"/> as a child.</summary>
    public static IEnumerable<string> ChildOf(string program, IEnumerable<string> args) => ["-c", "\"$0\" \"$@\"; exit $?", program, .. args];

    /// <summary>Every message received so far and to come, one notification per line.</summary>
    public ChannelReader<string> Messages => _messages.Reader;

    /// <summary>Waits for a message equal to <paramref name="expected"/>; returns the ones before it.</summary>
    public async Task<IReadOnlyList<string>> WaitForAsync(string expected, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var before = new List<string>();
        try
        {
            while (true)
            {
                var message = await _messages.Reader.ReadAsync(cancel.Token);
                if (message == expected)
                {
                    return before;
                }

                before.Add(message);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {expected} from the service within {timeout}; received: {string.Join(" | ", before)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
        _folder.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            foreach (var line in Encoding.UTF8.GetString(buffer, 0, read).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                _messages.Writer.TryWrite(line);
            }
        }
    }
}
