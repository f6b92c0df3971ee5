using System.Collections.Concurrent;

namespace OtelAi.Engine.Components;

/// <summary>
/// State that components of one running collector share by key, as otelcol's sharedcomponent does: one
/// memory_limiter for every pipeline that lists it, one GPU memory store per aiattributes id. Created on first use
/// and owned by the collector that built the components; it is dropped (disposing what is disposable) when that
/// collector shuts down, so collectors built from one registry neither share nor keep each other's state.
/// </summary>
public sealed class SharedComponents : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(Type, object), Lazy<object>> _entries = new();

    /// <summary>The value of type <typeparamref name="TValue"/> under <paramref name="key"/>, created once by <paramref name="create"/>.</summary>
    public TValue GetOrAdd<TValue>(object key, Func<TValue> create) where TValue : class =>
        (TValue)_entries.GetOrAdd((typeof(TValue), key), _ => new Lazy<object>(create)).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var entry in _entries.Values)
        {
            if (!entry.IsValueCreated) continue;
            if (entry.Value is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
            else if (entry.Value is IDisposable disposable) disposable.Dispose();
        }
        _entries.Clear();
    }
}
