using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

public class DurationTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("5s", 5 * TimeSpan.TicksPerSecond)]
    [InlineData("200ms", 200 * TimeSpan.TicksPerMillisecond)]
    [InlineData("1m30s", 90 * TimeSpan.TicksPerSecond)]
    [InlineData("1h", TimeSpan.TicksPerHour)]
    [InlineData("1.5h", 90 * TimeSpan.TicksPerMinute)]
    [InlineData("10us", 100L)]
    [InlineData("10µs", 100L)]
    [InlineData("10μs", 100L)]
    [InlineData("1500ns", 15L)]
    [InlineData("-2s", -2 * TimeSpan.TicksPerSecond)]
    [InlineData("+3m", 3 * TimeSpan.TicksPerMinute)]
    [InlineData("2h45m10.5s", (2 * 3600 + 45 * 60 + 10) * TimeSpan.TicksPerSecond + 5 * TimeSpan.TicksPerSecond / 10)]
    public void ParsesGoDurations(string text, long ticks)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(ticks, duration.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5 s")]
    [InlineData("5sec")]
    [InlineData("1d")]
    [InlineData("--1s")]
    [InlineData("1..5s")]
    public void RejectsWhatGoRejects(string text) => Assert.False(Durations.TryParse(text, out _));

    [Theory]
    [InlineData("0s")]
    [InlineData("200ms")]
    [InlineData("5s")]
    [InlineData("1m30s")]
    [InlineData("1h")]
    [InlineData("1s500ms")]
    [InlineData("10us")]
    [InlineData("300ns")]
    [InlineData("-2s")]
    public void FormatsToTextThatParsesBack(string text)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(text, Durations.Format(duration));
    }

    [Fact]
    public void SchemaPatternMatchesExactlyTheParsedForms()
    {
        var pattern = new System.Text.RegularExpressions.Regex(Durations.Pattern);
        foreach (var good in new[] { "0", "5s", "1m30s", "1.5h", "10µs", "-2s" }) Assert.Matches(pattern, good);
        foreach (var bad in new[] { "5", "5sec", "", "1d" }) Assert.DoesNotMatch(pattern, bad);
    }
}
