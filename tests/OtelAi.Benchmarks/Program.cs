using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/OtelAi.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
