using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using OtelAi.Engine.Extensions.Storage;

namespace OtelAi.Engine.Extensions.FileStorage;

/// <summary>
/// A key/value store in one append-only file (bitcask style). The file is a magic header followed by records
/// <c>[u32 body length][u32 CRC-32C of body][body]</c>; a body is one atomic batch of set/delete operations. Memory
/// holds only key → value location, values are read from the file. A torn last record (crash mid-write) is cut off;
/// a corrupt record in the middle makes the file quarantined (renamed <c>*.corrupt-*</c>) and the good prefix kept.
/// Compaction rewrites the live entries into a new file and renames it over the old one.
/// </summary>
internal sealed class FileStorageClient : IStorageClient
{
    private static readonly byte[] Magic = "OTAIKV01"u8.ToArray();
    private const int RecordHeaderSize = 8;
    private const byte OpSet = 1;
    private const byte OpDelete = 2;
    private const int MaxRecordBytes = 1 << 30;

    // Held across the awaited file I/O of a batch: one batch at a time keeps the log and the index in step.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _path;
    private readonly string _compactionDirectory;
    private readonly bool _fsync;
    private readonly ILogger _logger;
    private readonly Action<FileStorageClient> _onDispose;
    private readonly Dictionary<string, ValueLocation> _index = new(StringComparer.Ordinal);
    private SafeFileHandle _file;
    private long _length;
    private long _liveBytes;
    private bool _reboundNeeded;
    private bool _disposed;

    private readonly record struct ValueLocation(long Offset, int Length, int RecordBytes);

    private FileStorageClient(string path, string compactionDirectory, bool fsync, ILogger logger, Action<FileStorageClient> onDispose, SafeFileHandle file)
    {
        _path = path;
        _compactionDirectory = compactionDirectory;
        _fsync = fsync;
        _logger = logger;
        _onDispose = onDispose;
        _file = file;
    }

    public string Path => _path;

    /// <summary>Bytes of the file, including overwritten and deleted entries.</summary>
    public long FileBytes => Locked(() => _length);

    /// <summary>Bytes a compacted file would take.</summary>
    public long LiveBytes => Locked(() => Magic.Length + _liveBytes);

    /// <summary>
    /// Opens (or creates) the file, waiting up to <paramref name="lockTimeout"/> while another process holds it,
    /// and loads its index.
    /// </summary>
    public static async Task<FileStorageClient> OpenAsync(string path, string compactionDirectory, bool fsync, TimeSpan lockTimeout,
        ILogger logger, Action<FileStorageClient> onDispose, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + lockTimeout;
        SafeFileHandle handle;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock on Unix: two engines never share a queue file.
                handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                break;
            }
            catch (IOException) when (File.Exists(path) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
            }
            catch (IOException ex) when (File.Exists(path))
            {
                throw new IOException($"file storage {path} is locked by another process (waited {lockTimeout.TotalSeconds:0.###}s): {ex.Message}", ex);
            }
        }
        var client = new FileStorageClient(path, compactionDirectory, fsync, logger, onDispose, handle);
        try
        {
            client.Load();
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return client;
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await ReadValueAsync(key, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask SetAsync(string key, byte[] value, CancellationToken cancellationToken) =>
        BatchAsync([StorageOperation.Set(key, value)], cancellationToken);

    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) =>
        BatchAsync([StorageOperation.Delete(key)], cancellationToken);

    public async ValueTask BatchAsync(IReadOnlyList<StorageOperation> operations, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writes = new List<StorageOperation>(operations.Count);
            foreach (var op in operations)
            {
                // Gets see the state before this batch's writes, as in otelcol's bbolt-backed client.
                if (op.Kind == StorageOperationKind.Get) op.Value = await ReadValueAsync(op.Key, cancellationToken);
                else writes.Add(op);
            }
            // Once the append starts it runs to the end: a cancelled half-written record would have to be cut off again.
            if (writes.Count > 0) await AppendAsync(writes);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs a short piece of state access under the gate, for callers off the data path (compaction, figures).</summary>
    private TResult Locked<TResult>(Func<TResult> read)
    {
        _gate.Wait();
        try
        {
            return read();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Rewrites the file with only the live entries.</summary>
    public void Compact() => Locked(() =>
    {
        if (!_disposed) CompactLocked();
        return true;
    });

    /// <summary>otelcol's on_rebound rule: once the file grew past <paramref name="neededBytes"/>, compact when live data falls below <paramref name="triggerBytes"/>.</summary>
    public void CompactIfRebounded(long neededBytes, long triggerBytes) => Locked(() =>
    {
        if (_disposed) return false;
        if (_length >= neededBytes) _reboundNeeded = true;
        if (!_reboundNeeded || Magic.Length + _liveBytes >= triggerBytes) return false;
        CompactLocked();
        _reboundNeeded = false;
        return true;
    });

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _file.Dispose();
        }
        finally
        {
            _gate.Release();
        }
        _onDispose(this);
    }

    private async ValueTask<byte[]?> ReadValueAsync(string key, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_index.TryGetValue(key, out var at)) return null;
        var value = new byte[at.Length];
        var read = await RandomAccess.ReadAsync(_file, value, at.Offset, cancellationToken);
        if (read != at.Length) throw new IOException($"file storage {_path}: short read of key \"{key}\" ({read} of {at.Length} bytes); the file was changed outside the engine");
        return value;
    }

    private async ValueTask AppendAsync(List<StorageOperation> writes)
    {
        var record = RentRecord(writes, out var recordLength, out var valueOffsets);
        try
        {
            var recordOffset = _length;
            try
            {
                await RandomAccess.WriteAsync(_file, record.AsMemory(0, recordLength), recordOffset);
                if (_fsync) RandomAccess.FlushToDisk(_file);
            }
            catch (IOException)
            {
                // Disk full or I/O error: cut off whatever part of the record reached the file so the log stays valid.
                try { RandomAccess.SetLength(_file, recordOffset); } catch (IOException) { }
                throw;
            }
            _length += recordLength;
            Index(writes, recordOffset, valueOffsets);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
        }
    }

    private void Index(List<StorageOperation> writes, long recordOffset, int[] valueOffsets)
    {
        for (var i = 0; i < writes.Count; i++)
        {
            var op = writes[i];
            var recordBytes = OpBytes(op);
            if (op.Kind == StorageOperationKind.Set)
                Put(op.Key, new ValueLocation(recordOffset + RecordHeaderSize + valueOffsets[i], op.Input.Length, recordBytes));
            else
                Remove(op.Key);
        }
    }

    private void Put(string key, ValueLocation location)
    {
        if (_index.TryGetValue(key, out var old)) _liveBytes -= old.RecordBytes;
        _index[key] = location;
        _liveBytes += location.RecordBytes;
    }

    private void Remove(string key)
    {
        if (_index.Remove(key, out var old)) _liveBytes -= old.RecordBytes;
    }

    private static int OpBytes(StorageOperation op) =>
        RecordHeaderSize + 4 + 1 + 4 + Encoding.UTF8.GetByteCount(op.Key) + (op.Kind == StorageOperationKind.Set ? 4 + op.Input.Length : 0);

    /// <summary>
    /// Encodes one record, <c>[u32 body length][u32 CRC-32C of body][body]</c>, into a pooled array (returned to
    /// <see cref="ArrayPool{T}.Shared"/> by the caller), so a queued batch of megabytes lands on no large-object heap.
    /// Body: u32 op count, then per op: u8 kind, u32 key length, key (UTF-8), and for sets u32 value length, value.
    /// <paramref name="valueOffsets"/> says where each set's value starts in the body.
    /// </summary>
    private static byte[] RentRecord(IReadOnlyList<StorageOperation> writes, out int recordLength, out int[] valueOffsets)
    {
        var bodyLength = 4;
        foreach (var op in writes)
            bodyLength += 1 + 4 + Encoding.UTF8.GetByteCount(op.Key) + (op.Kind == StorageOperationKind.Set ? 4 + op.Input.Length : 0);
        recordLength = RecordHeaderSize + bodyLength;
        var record = ArrayPool<byte>.Shared.Rent(recordLength);
        var body = record.AsSpan(RecordHeaderSize, bodyLength);
        valueOffsets = new int[writes.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)writes.Count);
        var pos = 4;
        for (var i = 0; i < writes.Count; i++)
        {
            var op = writes[i];
            body[pos++] = op.Kind == StorageOperationKind.Set ? OpSet : OpDelete;
            var keyLength = Encoding.UTF8.GetBytes(op.Key, body[(pos + 4)..]);
            BinaryPrimitives.WriteUInt32LittleEndian(body[pos..], (uint)keyLength);
            pos += 4 + keyLength;
            if (op.Kind != StorageOperationKind.Set) continue;
            BinaryPrimitives.WriteUInt32LittleEndian(body[pos..], (uint)op.Input.Length);
            pos += 4;
            valueOffsets[i] = pos;
            op.Input.Span.CopyTo(body[pos..]);
            pos += op.Input.Length;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32C(body));
        return record;
    }

    private void Load()
    {
        var fileLength = RandomAccess.GetLength(_file);
        if (fileLength == 0)
        {
            RandomAccess.Write(_file, Magic, 0);
            _length = Magic.Length;
            return;
        }

        var header = new byte[Magic.Length];
        if (fileLength < Magic.Length || RandomAccess.Read(_file, header, 0) != Magic.Length || !header.AsSpan().SequenceEqual(Magic))
        {
            Quarantine(0, "it does not start with the file storage header (not written by otelai, or overwritten)");
            return;
        }

        var pos = (long)Magic.Length;
        var recordHeader = new byte[RecordHeaderSize];
        while (pos < fileLength)
        {
            if (fileLength - pos < RecordHeaderSize)
            {
                TruncateTornTail(pos, fileLength);
                return;
            }
            RandomAccess.Read(_file, recordHeader, pos);
            var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(recordHeader);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(recordHeader.AsSpan(4));
            if (bodyLength > MaxRecordBytes)
            {
                Quarantine(pos, $"record at offset {pos} claims {bodyLength} bytes");
                return;
            }
            if (pos + RecordHeaderSize + bodyLength > fileLength)
            {
                TruncateTornTail(pos, fileLength);
                return;
            }
            var body = new byte[bodyLength];
            RandomAccess.Read(_file, body, pos + RecordHeaderSize);
            if (Crc32C(body) != crc)
            {
                Quarantine(pos, $"record at offset {pos} fails its checksum");
                return;
            }
            if (!ApplyLoadedRecord(body, pos + RecordHeaderSize, out var error))
            {
                Quarantine(pos, $"record at offset {pos} is malformed: {error}");
                return;
            }
            pos += RecordHeaderSize + bodyLength;
        }
        _length = pos;
    }

    private bool ApplyLoadedRecord(byte[] body, long bodyOffset, out string? error)
    {
        // Parse fully before applying, so a malformed record changes nothing.
        var parsed = new List<(string Key, ValueLocation? Location)>();
        error = null;
        if (body.Length < 4) { error = "no operation count"; return false; }
        var count = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var pos = 4;
        for (var i = 0; i < count; i++)
        {
            if (pos + 5 > body.Length) { error = "operation header past the end"; return false; }
            var kind = body[pos];
            var keyLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(pos + 1));
            pos += 5;
            if (kind is not (OpSet or OpDelete)) { error = $"unknown operation {kind}"; return false; }
            if (keyLength < 0 || pos + keyLength > body.Length) { error = "key past the end"; return false; }
            var key = Encoding.UTF8.GetString(body, pos, keyLength);
            pos += keyLength;
            if (kind == OpDelete)
            {
                parsed.Add((key, null));
                continue;
            }
            if (pos + 4 > body.Length) { error = "value length past the end"; return false; }
            var valueLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(pos));
            pos += 4;
            if (valueLength < 0 || pos + valueLength > body.Length) { error = "value past the end"; return false; }
            parsed.Add((key, new ValueLocation(bodyOffset + pos, valueLength, RecordHeaderSize + 4 + 1 + 4 + keyLength + 4 + valueLength)));
            pos += valueLength;
        }
        if (pos != body.Length) { error = "trailing bytes after the last operation"; return false; }
        foreach (var (key, location) in parsed)
        {
            if (location is { } at) Put(key, at);
            else Remove(key);
        }
        return true;
    }

    private void TruncateTornTail(long goodLength, long fileLength)
    {
        _logger.LogWarning("file storage {Path}: the last write was cut short (crash or kill during a write); discarding its {Bytes} bytes", _path, fileLength - goodLength);
        RandomAccess.SetLength(_file, goodLength);
        _length = goodLength;
    }

    /// <summary>Keeps a copy of the damaged file for inspection and continues with the entries read before the damage.</summary>
    private void Quarantine(long goodLength, string reason)
    {
        var quarantined = $"{_path}.corrupt-{DateTime.UtcNow:yyyyMMddTHHmmssfff}";
        CopyOpenFileTo(quarantined);
        _logger.LogError("file storage {Path} is corrupt: {Reason}. Kept the {Entries} entries before the damage; the damaged file was saved as {Quarantined}",
            _path, reason, _index.Count, quarantined);
        if (goodLength == 0)
        {
            _index.Clear();
            _liveBytes = 0;
            RandomAccess.SetLength(_file, 0);
            RandomAccess.Write(_file, Magic, 0);
            _length = Magic.Length;
            return;
        }
        _length = goodLength;
        CompactLocked();
    }

    // File.Copy would reopen the file, which our exclusive lock forbids: copy through the handle we hold.
    private void CopyOpenFileTo(string destination)
    {
        using var target = File.OpenHandle(destination, FileMode.Create, FileAccess.Write);
        var buffer = new byte[81920];
        long offset = 0;
        int read;
        while ((read = RandomAccess.Read(_file, buffer, offset)) > 0)
        {
            RandomAccess.Write(target, buffer.AsSpan(0, read), offset);
            offset += read;
        }
    }

    private void CompactLocked()
    {
        var before = _length;
        var tempPath = System.IO.Path.Combine(_compactionDirectory, System.IO.Path.GetFileName(_path) + ".compacting");
        var newIndex = new Dictionary<string, ValueLocation>(_index.Count, StringComparer.Ordinal);
        long newLength;
        using (var temp = File.OpenHandle(tempPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            RandomAccess.Write(temp, Magic, 0);
            newLength = Magic.Length;
            foreach (var (key, at) in _index)
            {
                var value = new byte[at.Length];
                RandomAccess.Read(_file, value, at.Offset);
                var record = RentRecord([StorageOperation.Set(key, value)], out var recordLength, out var valueOffsets);
                try
                {
                    RandomAccess.Write(temp, record.AsSpan(0, recordLength), newLength);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(record);
                }
                newIndex[key] = new ValueLocation(newLength + RecordHeaderSize + valueOffsets[0], at.Length, at.RecordBytes);
                newLength += recordLength;
            }
            RandomAccess.FlushToDisk(temp);
        }
        // Rename over the live file, then reopen it: the old handle (and its lock) goes away only after the new file is in place.
        File.Move(tempPath, _path, overwrite: true);
        var reopened = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        _file.Dispose();
        _file = reopened;
        _index.Clear();
        foreach (var (key, at) in newIndex) _index[key] = at;
        _length = newLength;
        _logger.LogInformation("file storage {Path} compacted from {Before} to {After} bytes", _path, before, newLength);
    }

    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}
