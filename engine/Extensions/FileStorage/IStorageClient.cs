using OtelAi.Engine.Components;

namespace OtelAi.Engine.Extensions.Storage;

/// <summary>
/// otelcol's storage extension contract: a component asks for its own key/value client, named after the
/// component kind, id and a client name (the persistent queue uses the signal name).
/// </summary>
public interface IStorageExtension : IComponent
{
    ValueTask<IStorageClient> GetClientAsync(ComponentKind kind, ComponentId id, string name, CancellationToken cancellationToken);
}

/// <summary>
/// Durable key/value store of one component. Writes are durable once the call completes (to the OS page cache,
/// or to disk with fsync); a batch is all-or-nothing. I/O failures surface as <see cref="IOException"/>.
/// </summary>
public interface IStorageClient : IAsyncDisposable
{
    /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    ValueTask SetAsync(string key, byte[] value, CancellationToken cancellationToken);

    ValueTask DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Applies every set and delete atomically; get operations are answered in place (their Value is filled in).</summary>
    ValueTask BatchAsync(IReadOnlyList<StorageOperation> operations, CancellationToken cancellationToken);
}

public enum StorageOperationKind { Get, Set, Delete }

/// <summary>One operation of a batch; for <see cref="StorageOperationKind.Get"/> the result is written to <see cref="Value"/>.</summary>
public sealed class StorageOperation
{
    private StorageOperation(StorageOperationKind kind, string key, ReadOnlyMemory<byte> input)
    {
        Kind = kind;
        Key = key;
        Input = input;
    }

    public StorageOperationKind Kind { get; }

    public string Key { get; }

    /// <summary>The bytes a set stores (pooled memory is fine: it is read only until the batch completes).</summary>
    public ReadOnlyMemory<byte> Input { get; }

    /// <summary>What a get found, or null when the key is absent.</summary>
    public byte[]? Value { get; set; }

    public static StorageOperation Get(string key) => new(StorageOperationKind.Get, key, default);

    public static StorageOperation Set(string key, ReadOnlyMemory<byte> value) => new(StorageOperationKind.Set, key, value);

    public static StorageOperation Delete(string key) => new(StorageOperationKind.Delete, key, default);
}
