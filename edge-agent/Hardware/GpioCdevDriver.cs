using System.Buffers.Binary;
using System.Device.Gpio;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Agent.Hardware;

/// <summary>What the agent knows about the thread that delivers GPIO edge events.</summary>
public interface IEdgeEventHealth
{
    /// <summary>Why edge events no longer arrive; null while they do.</summary>
    string? Problem { get; }
}

/// <summary>
/// A GPIO driver on the Linux GPIO character device, uAPI v2 (<c>/dev/gpiochipN</c>, kernel 5.10
/// and later: every Raspberry Pi OS since Bullseye), without libgpiod. Written for what the
/// dotnet/iot 4.2 drivers get wrong on a Pi: the libgpiod v1 driver runs a blocking thread-pool
/// loop per line (18–20 lines starve the pool at start), a loop that throws dies silently, it
/// re-requests a line for edge events without its bias flags (a beam on the internal pull-up
/// floats), and <see cref="PinValueChangedEventArgs"/> carries no kernel timestamp. Here one
/// dedicated thread polls every line; each event becomes a <see cref="TimedPinValueChangedEventArgs"/>
/// stamped with the kernel's monotonic timestamp; a mode change keeps the bias (line set-config,
/// not a new request); and a failure of the thread is kept in <see cref="Problem"/>, which the
/// edge readers report as their health.
/// </summary>
public sealed partial class GpioCdevDriver : GpioDriver, IEdgeEventHealth
{
    // include/uapi/linux/gpio.h, uAPI v2.
    private const ulong FlagInput = 1 << 2;
    private const ulong FlagOutput = 1 << 3;
    private const ulong FlagEdgeRising = 1 << 4;
    private const ulong FlagEdgeFalling = 1 << 5;
    private const ulong FlagBiasPullUp = 1 << 8;
    private const ulong FlagBiasPullDown = 1 << 9;
    private const ulong FlagBiasDisabled = 1 << 10;

    /// <summary>sizeof(struct gpio_v2_line_request), gpio_v2_line_config, gpio_v2_line_values, gpio_v2_line_event.</summary>
    public const int LineRequestSize = 592;
    public const int LineConfigSize = 272;
    public const int LineValuesSize = 16;
    public const int LineEventSize = 48;

    private const int ConfigOffset = 288;
    private const int NumLinesOffset = ConfigOffset + LineConfigSize;
    private const int EventBufferSizeOffset = NumLinesOffset + 4;
    private const int FdOffset = LineRequestSize - 4;

    public static readonly nuint GetLineIoctl = Iowr(0x07, LineRequestSize);
    public static readonly nuint SetConfigIoctl = Iowr(0x0D, LineConfigSize);
    public static readonly nuint GetValuesIoctl = Iowr(0x0E, LineValuesSize);
    public static readonly nuint SetValuesIoctl = Iowr(0x0F, LineValuesSize);

    private const short PollIn = 0x001;
    private const int ORdWr = 0x0002;
    private const int OCloExec = 0x80000;
    private const int ONonBlock = 0x800;
    private const int Eintr = 4;
    private const int Eagain = 11;

    private readonly string _chipPath;
    private readonly int _chipFd;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Line> _lines = [];
    private readonly int[] _wake = new int[2];
    private Thread? _loop;
    private volatile string? _problem;
    private volatile bool _disposed;

    public GpioCdevDriver(int chip, ILogger logger, TimeProvider? clock = null)
    {
        _chipPath = $"/dev/gpiochip{chip}";
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _chipFd = Open(_chipPath, ORdWr | OCloExec);
        if (_chipFd < 0)
        {
            throw new IOException($"cannot open {_chipPath}: {Errno()} (is the user in the gpio group, and is DeviceAllow=char-gpiochip in the unit?)");
        }

        if (Pipe2(_wake, OCloExec | ONonBlock) != 0)
        {
            Close(_chipFd);
            throw new IOException($"cannot create the GPIO event thread's wake-up pipe: {Errno()}");
        }
    }

    public string? Problem => _problem;

    /// <summary>Lines of the header chip: 54 (BCM2835/RP1) or 58 (BCM2711); the kernel refuses a line that is not there.</summary>
    protected override int PinCount => 58;

    /// <summary>_IOWR(0xB4, nr, size) as Linux encodes it on ARM and x86.</summary>
    public static nuint Iowr(int nr, int size) => (nuint)((3u << 30) | ((uint)size << 16) | (0xB4u << 8) | (uint)nr);

    /// <summary>
    /// The flags of a line request: direction, bias, and the edges to report. The bias is always
    /// given explicitly, so an input on the internal pull-up keeps it when edges are turned on.
    /// </summary>
    public static ulong FlagsFor(PinMode mode, PinEventTypes edges)
    {
        var flags = mode switch
        {
            PinMode.Output => FlagOutput,
            PinMode.InputPullUp => FlagInput | FlagBiasPullUp,
            PinMode.InputPullDown => FlagInput | FlagBiasPullDown,
            _ => FlagInput | FlagBiasDisabled,
        };
        if (mode != PinMode.Output)
        {
            flags |= ((edges & PinEventTypes.Rising) != 0 ? FlagEdgeRising : 0) | ((edges & PinEventTypes.Falling) != 0 ? FlagEdgeFalling : 0);
        }

        return flags;
    }

    /// <summary>Fills a struct gpio_v2_line_request for one line.</summary>
    public static byte[] LineRequest(int offset, ulong flags, string consumer)
    {
        var request = new byte[LineRequestSize];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)offset);
        Encoding.ASCII.GetBytes(consumer.AsSpan(0, Math.Min(consumer.Length, 31)), request.AsSpan(256, 31));
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(ConfigOffset), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(NumLinesOffset), 1);
        // Room for bursts: 2 kHz on a line for 32 ms before the kernel drops events.
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(EventBufferSizeOffset), 64);
        return request;
    }

    /// <summary>
    /// Turns a kernel edge timestamp (CLOCK_MONOTONIC ns, the clock .NET's Stopwatch reads on
    /// Linux) into the agent's wall-clock time: now minus how long ago the edge happened.
    /// </summary>
    public static DateTimeOffset EdgeTime(ulong monotonicNs, long nowMonotonicNs, DateTimeOffset now)
    {
        var ago = nowMonotonicNs - (long)monotonicNs;
        return ago > 0 ? now - TimeSpan.FromTicks(ago / 100) : now;
    }

    /// <summary>Reads one struct gpio_v2_line_event: kernel time, edge and line offset.</summary>
    public static (ulong TimestampNs, PinEventTypes Edge, int Offset) ParseEvent(ReadOnlySpan<byte> raw) =>
        (BinaryPrimitives.ReadUInt64LittleEndian(raw),
         BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]) == 1 ? PinEventTypes.Rising : PinEventTypes.Falling,
         (int)BinaryPrimitives.ReadUInt32LittleEndian(raw[12..]));

    protected override void OpenPin(int pinNumber)
    {
        lock (_gate)
        {
            if (!_lines.ContainsKey(pinNumber))
            {
                _lines[pinNumber] = Request(pinNumber, PinMode.Input, PinEventTypes.None);
            }
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            if (_lines.Remove(pinNumber, out var line))
            {
                Close(line.Fd);
                Wake();
            }
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_gate)
        {
            var line = Get(pinNumber);
            line.Mode = mode;
            Reconfigure(line);
        }
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_gate)
        {
            return Get(pinNumber).Mode;
        }
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        mode is PinMode.Input or PinMode.InputPullUp or PinMode.InputPullDown or PinMode.Output;

    protected override PinValue Read(int pinNumber)
    {
        Span<byte> values = stackalloc byte[LineValuesSize];
        BinaryPrimitives.WriteUInt64LittleEndian(values[8..], 1);
        lock (_gate)
        {
            IoctlOrThrow(Get(pinNumber).Fd, GetValuesIoctl, values, "read GPIO " + pinNumber);
        }

        return (BinaryPrimitives.ReadUInt64LittleEndian(values) & 1) != 0 ? PinValue.High : PinValue.Low;
    }

    protected override void Write(int pinNumber, PinValue value)
    {
        Span<byte> values = stackalloc byte[LineValuesSize];
        BinaryPrimitives.WriteUInt64LittleEndian(values, value == PinValue.High ? 1UL : 0UL);
        BinaryPrimitives.WriteUInt64LittleEndian(values[8..], 1);
        lock (_gate)
        {
            IoctlOrThrow(Get(pinNumber).Fd, SetValuesIoctl, values, "write GPIO " + pinNumber);
        }
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        PinEventWait.ForFirstEdge(pinNumber, eventTypes, cancellationToken, AddCallbackForPinValueChangedEvent, RemoveCallbackForPinValueChangedEvent);

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            var line = Get(pinNumber);
            line.Callbacks.Add((eventTypes, callback));
            Reconfigure(line);
            if (_loop is null || !_loop.IsAlive)
            {
                // Started on first use, and again after a failure (the reader that reported it retries).
                _problem = null;
                _loop = new Thread(EventLoop) { IsBackground = true, Name = "gpio-edges", Priority = ThreadPriority.AboveNormal };
                _loop.Start();
            }

            Wake();
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            if (_lines.TryGetValue(pinNumber, out var line))
            {
                line.Callbacks.RemoveAll(c => c.Handler == callback);
                Reconfigure(line);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Wake();
            foreach (var line in _lines.Values)
            {
                Close(line.Fd);
            }

            _lines.Clear();
        }

        _loop?.Join(TimeSpan.FromSeconds(2));
        Close(_wake[0]);
        Close(_wake[1]);
        Close(_chipFd);
        base.Dispose(disposing);
    }

    /// <summary>The one thread for every line: poll, read the events, call back with kernel times.</summary>
    private void EventLoop()
    {
        var events = new byte[LineEventSize * 16];
        try
        {
            while (!_disposed)
            {
                PollFd[] fds;
                Line[] lines;
                lock (_gate)
                {
                    lines = _lines.Values.Where(l => l.Edges != PinEventTypes.None).ToArray();
                    fds = new PollFd[lines.Length + 1];
                    fds[0] = new PollFd { Fd = _wake[0], Events = PollIn };
                    for (var i = 0; i < lines.Length; i++)
                    {
                        fds[i + 1] = new PollFd { Fd = lines[i].Fd, Events = PollIn };
                    }
                }

                var ready = Poll(ref fds[0], (nuint)fds.Length, -1);
                if (ready < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Eintr)
                    {
                        continue;
                    }

                    throw new IOException($"poll on {_chipPath} lines failed: {Errno()}");
                }

                if ((fds[0].Revents & PollIn) != 0)
                {
                    while (ReadFd(_wake[0], ref events[0], (nuint)events.Length) > 0)
                    {
                        // Drained: the set of lines changed, poll them anew.
                    }
                }

                for (var i = 0; i < lines.Length; i++)
                {
                    if ((fds[i + 1].Revents & PollIn) != 0)
                    {
                        Drain(lines[i], events);
                    }
                }
            }
        }
        catch (Exception e)
        {
            // Never silent: the edge readers report this as their health until the loop runs again.
            _problem = $"GPIO edge events stopped: {e.Message}";
            _logger.LogError(e, "GPIO edge event thread on {Chip} stopped", _chipPath);
        }
    }

    private void Drain(Line line, byte[] buffer)
    {
        var read = ReadFd(line.Fd, ref buffer[0], (nuint)buffer.Length);
        if (read < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Eagain or Eintr || !IsOpen(line))
            {
                return;
            }

            throw new IOException($"reading edge events of GPIO {line.Pin} failed: {Errno()}");
        }

        // Stopwatch reads CLOCK_MONOTONIC on Linux, the clock of the kernel's edge timestamps.
        var nowMono = Stopwatch.Frequency == 1_000_000_000 ? Stopwatch.GetTimestamp() : (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
        var now = _clock.GetUtcNow();
        for (var at = 0; at + LineEventSize <= read; at += LineEventSize)
        {
            var (ns, edge, _) = ParseEvent(buffer.AsSpan(at, LineEventSize));
            var args = new TimedPinValueChangedEventArgs(edge, line.Pin, EdgeTime(ns, nowMono, now));
            (PinEventTypes Events, PinChangeEventHandler Handler)[] callbacks;
            lock (_gate)
            {
                callbacks = [.. line.Callbacks];
            }

            foreach (var (events, handler) in callbacks)
            {
                if ((events & edge) == 0)
                {
                    continue;
                }

                try
                {
                    handler(this, args);
                }
                catch (Exception e)
                {
                    // One reader's fault must not stop the edges of all the others.
                    _logger.LogError(e, "A GPIO {Pin} edge handler failed", line.Pin);
                }
            }
        }
    }

    private bool IsOpen(Line line)
    {
        lock (_gate)
        {
            return _lines.TryGetValue(line.Pin, out var current) && current == line;
        }
    }

    private Line Request(int pin, PinMode mode, PinEventTypes edges)
    {
        var request = LineRequest(pin, FlagsFor(mode, edges), "ntp-edge-agent");
        IoctlOrThrow(_chipFd, GetLineIoctl, request, $"request GPIO {pin} on {_chipPath}");
        var fd = BinaryPrimitives.ReadInt32LittleEndian(request.AsSpan(FdOffset));
        SetNonBlocking(fd);
        return new Line(pin, fd) { Mode = mode, Edges = edges };
    }

    /// <summary>Applies mode, bias and edges to a requested line in place (uAPI v2 set-config).</summary>
    private void Reconfigure(Line line)
    {
        var edges = line.Callbacks.Aggregate(PinEventTypes.None, (all, c) => all | c.Events);
        Span<byte> config = stackalloc byte[LineConfigSize];
        BinaryPrimitives.WriteUInt64LittleEndian(config, FlagsFor(line.Mode, edges));
        IoctlOrThrow(line.Fd, SetConfigIoctl, config, $"configure GPIO {line.Pin}");
        line.Edges = line.Mode == PinMode.Output ? PinEventTypes.None : edges;
        Wake();
    }

    private Line Get(int pin) =>
        _lines.TryGetValue(pin, out var line) ? line : throw new InvalidOperationException($"GPIO {pin} is not open");

    private void Wake()
    {
        Span<byte> one = [1];
        _ = WriteFd(_wake[1], ref one[0], 1);
    }

    private static void SetNonBlocking(int fd)
    {
        const int FGetFl = 3;
        const int FSetFl = 4;
        var flags = Fcntl(fd, FGetFl, 0);
        if (flags >= 0)
        {
            _ = Fcntl(fd, FSetFl, flags | ONonBlock);
        }
    }

    private static void IoctlOrThrow(int fd, nuint request, Span<byte> argument, string what)
    {
        if (Ioctl(fd, request, ref MemoryMarshal.GetReference(argument)) < 0)
        {
            throw new IOException($"cannot {what}: {Errno()}");
        }
    }

    private static string Errno()
    {
        var errno = Marshal.GetLastPInvokeError();
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private sealed class Line(int pin, int fd)
    {
        public int Pin { get; } = pin;

        public int Fd { get; } = fd;

        public PinMode Mode { get; set; }

        public PinEventTypes Edges { get; set; }

        public List<(PinEventTypes Events, PinChangeEventHandler Handler)> Callbacks { get; } = [];
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, ref byte argument);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadFd(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteFd(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2([Out] int[] fds, int flags);
}
