using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>A queued request, the client info of the call that queued it, and what the queue needs to know to retire it.</summary>
internal sealed record QueuedRequest<T>(Payload<T> Request, long Index, long Size, ClientInfo Client) where T : class, IMessage<T>, new();
