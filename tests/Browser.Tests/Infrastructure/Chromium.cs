using Microsoft.Playwright;

namespace NewTechPark.Edge.Browser.Tests.Infrastructure;

/// <summary>Debian's chromium, driven by Playwright (never a downloaded browser).</summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Debian's chromium at {ExecutablePath}, and it is not installed. Install it with 'apt-get install chromium' (./test.sh does).");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>A page with its console errors and uncaught exceptions collected.</summary>
public sealed class WatchedPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private WatchedPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                Errors.Add($"console: {message.Text}");
            }
        };
        page.PageError += (_, error) => Errors.Add($"page error: {error}");
    }

    public IPage Page { get; }

    public List<string> Errors { get; } = [];

    /// <summary>A fresh browser context (its own localStorage) at tablet size.</summary>
    public static async Task<WatchedPage> OpenAsync(IBrowser browser, int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        return new WatchedPage(context, page);
    }

    /// <summary>Milliseconds from navigation start to the load event.</summary>
    public async Task<double> LoadTimeAsync() =>
        await Page.EvaluateAsync<double>("() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }");

    /// <summary>
    /// Waits for the page's own signal that it has drawn its first data (<c>data-ready</c> on
    /// &lt;body&gt;, set by the dashboards' scripts), then for two animation frames, so charts that
    /// draw once a frame have drawn too.
    /// </summary>
    public async Task WaitUntilDrawnAsync(float timeoutMs = 30_000)
    {
        await Page.Locator("body[data-ready='1']").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = timeoutMs });
        await NextFramesAsync();
    }

    /// <summary>
    /// Waits until the page has handled <paramref name="count"/> more live events (its
    /// <c>data-updates</c> counter on &lt;body&gt;) than it had when called, then for the frames they draw.
    /// </summary>
    public async Task<int> WaitForLiveUpdatesAsync(int count, float timeoutMs = 30_000)
    {
        var before = await UpdatesAsync();
        await Page.WaitForFunctionAsync("target => Number(document.body.dataset.updates || 0) >= target", before + count,
            new PageWaitForFunctionOptions { Timeout = timeoutMs });
        await NextFramesAsync();
        return await UpdatesAsync() - before;
    }

    private Task<int> UpdatesAsync() => Page.EvaluateAsync<int>("() => Number(document.body.dataset.updates || 0)");

    private Task NextFramesAsync() => Page.EvaluateAsync("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))");

    public async Task ScreenshotAsync(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
