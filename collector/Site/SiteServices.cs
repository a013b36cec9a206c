using Microsoft.Extensions.DependencyInjection.Extensions;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// The services of one site: a child service container holding the site's <see cref="SiteModel"/>
/// and the site-scoped services (occupancy, energy, visitors, report, notifications, ...), unchanged
/// classes that take "the" site. Everything else (store, live hub, clock, options, metrics,
/// logging) is forwarded to the collector's one instance in the root container.
/// </summary>
public sealed class SiteServices : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    internal SiteServices(SiteEntry entry, ServiceProvider provider, IReadOnlySet<Type> scoped)
    {
        Entry = entry;
        _provider = provider;
        ScopedTypes = scoped;
    }

    public SiteEntry Entry { get; }

    public SiteModel Site => Entry.Site;

    /// <summary>The site's container: the site-scoped services and, forwarded, the shared ones.</summary>
    public IServiceProvider Services => _provider;

    /// <summary>The types this container makes itself (the others are the root's).</summary>
    public IReadOnlySet<Type> ScopedTypes { get; }

    public T GetRequiredService<T>() where T : notnull => _provider.GetRequiredService<T>();

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}

/// <summary>
/// Every owned site's <see cref="SiteServices"/>, built from the root on first use: the site-scoped
/// registrations (<see cref="SiteScopedServices"/>) in a child container per site, the root's
/// singletons forwarded. A site-scoped type asked of the root gets a named refusal instead of the
/// first site's instance, so nothing silently serves one site only.
/// </summary>
public sealed class SiteServicesCatalog : IAsyncDisposable
{
    private readonly Dictionary<string, SiteServices> _byId = new(StringComparer.Ordinal);

    public SiteServicesCatalog(SiteCatalog catalog, IServiceProvider root, SiteScopedServices registrations)
    {
        Catalog = catalog;
        var all = new List<SiteServices>(catalog.Count);
        foreach (var entry in catalog.Entries)
        {
            var child = new ServiceCollection();
            child.AddSingleton(entry);
            child.AddSingleton(entry.Site);
            registrations.Configure(child);
            var scoped = child.Select(d => d.ServiceType).ToHashSet();
            foreach (var descriptor in registrations.Root)
            {
                Forward(child, descriptor, root, scoped, registrations.Root);
            }

            var services = new SiteServices(entry, child.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false }), scoped);
            all.Add(services);
            _byId[entry.Site.Site] = services;
        }

        All = all;
    }

    public SiteCatalog Catalog { get; }

    public IReadOnlyList<SiteServices> All { get; }

    /// <summary>The default site's services (the first site listed).</summary>
    public SiteServices Default => All[0];

    public SiteServices? Find(string site) => _byId.GetValueOrDefault(site);

    /// <summary>A site-scoped service of every site (the live stream's occupancy, the ingest's engines).</summary>
    public IEnumerable<T> Each<T>() where T : notnull => All.Select(s => s.GetRequiredService<T>());

    public async ValueTask DisposeAsync()
    {
        foreach (var site in All)
        {
            await site.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void Forward(ServiceCollection child, ServiceDescriptor descriptor, IServiceProvider root, HashSet<Type> scoped, IReadOnlyList<ServiceDescriptor> rootRegistrations)
    {
        if (descriptor.IsKeyedService || scoped.Contains(descriptor.ServiceType) || descriptor.ServiceType == typeof(IHostedService))
        {
            return;
        }

        if (descriptor.ServiceType.IsGenericTypeDefinition)
        {
            // ILogger<T>, IOptions<T>: made again in the child from the forwarded factories.
            child.TryAdd(descriptor);
            return;
        }

        if (descriptor.Lifetime != ServiceLifetime.Singleton)
        {
            // Transient and request services have no place in a site's long-lived services.
            if (descriptor.Lifetime == ServiceLifetime.Transient)
            {
                child.Add(descriptor);
            }

            return;
        }

        var type = descriptor.ServiceType;
        if (child.Any(d => d.ServiceType == type))
        {
            // A second registration of the same type (IEnumerable<T>): the root hands all of them at once below.
            return;
        }

        var count = rootRegistrations.Count(d => !d.IsKeyedService && d.ServiceType == type);
        if (count == 1)
        {
            child.AddSingleton(type, _ => root.GetRequiredService(type));
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                var index = i;
                child.AddSingleton(type, _ => root.GetServices(type).ElementAt(index)!);
            }
        }
    }
}

/// <summary>
/// The registrations each site gets in its own container, and the root's registrations (kept to
/// forward the shared singletons). Added by <c>AddCollector</c>; a host (the demo) may add more
/// site-scoped registrations before the host is built.
/// </summary>
public sealed class SiteScopedServices
{
    private readonly List<Action<IServiceCollection>> _configure = [];

    /// <summary>The root's registrations, set once the host's services are complete.</summary>
    public IReadOnlyList<ServiceDescriptor> Root { get; set; } = [];

    public void Add(Action<IServiceCollection> configure) => _configure.Add(configure);

    public void Configure(IServiceCollection services)
    {
        foreach (var configure in _configure)
        {
            configure(services);
        }
    }

    /// <summary>The types the site containers make, so the root can refuse them by name.</summary>
    public IReadOnlySet<Type> Types()
    {
        var probe = new ServiceCollection();
        probe.AddSingleton(new SiteEntry(new SiteModel(), string.Empty, null));
        probe.AddSingleton(new SiteModel());
        Configure(probe);
        return probe.Select(d => d.ServiceType).Where(t => t != typeof(IHostedService)).ToHashSet();
    }
}

/// <summary>Starts every site's hosted services (in registration order, site by site) and stops them in reverse.</summary>
public sealed class SiteHostedServices(SiteServicesCatalog sites) : IHostedService
{
    private readonly List<IHostedService> _started = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var site in sites.All)
        {
            foreach (var service in site.Services.GetServices<IHostedService>())
            {
                await service.StartAsync(cancellationToken).ConfigureAwait(false);
                _started.Add(service);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(cancellationToken).ConfigureAwait(false);
        }

        _started.Clear();
    }
}
