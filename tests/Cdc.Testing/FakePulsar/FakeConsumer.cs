using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Testing.FakePulsar;

/// <summary>
/// A consumer on the fake broker: sends the topic's entries from its cursor while it has permits (FLOW); a batch
/// entry takes one permit per message and goes out whole while any permit is left, as on a broker.
/// </summary>
internal sealed class FakeConsumer(FakePulsarConnection connection, FakePulsarTopic topic, CommandSubscribe subscribe)
{
    private long _permits;
    private int _next;
    private int _pumpRequests;
    private volatile bool _stopped;

    public FakePulsarTopic Topic { get; } = topic;

    public CommandSubscribe Subscribe { get; } = subscribe;

    public bool IsActive => !_stopped;

    public void StartAt(int index)
    {
        _next = index;
        Topic.Appended += RequestPump;
    }

    public void AddPermits(uint permits)
    {
        Interlocked.Add(ref _permits, permits);
        RequestPump();
    }

    public void Acknowledge(CommandAck ack)
    {
        if (Subscribe.Durable) Topic.Acknowledge(Subscribe.Subscription, ack);
    }

    public void Stop()
    {
        _stopped = true;
        Topic.Appended -= RequestPump;
        Topic.Detach(this);
    }

    private void RequestPump()
    {
        if (Interlocked.Increment(ref _pumpRequests) == 1) _ = Task.Run(PumpAsync);
    }

    private async Task PumpAsync()
    {
        do
        {
            while (!_stopped && Interlocked.Read(ref _permits) > 0 && Topic.TryTake(ref _next, out var entry))
            {
                Interlocked.Add(ref _permits, -entry.MessageCount);
                try
                {
                    await connection.SendEntryAsync(Subscribe.ConsumerId, entry, Topic.Name);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
                {
                    Stop();
                }
            }
        }
        while (Interlocked.Decrement(ref _pumpRequests) > 0);
    }
}
