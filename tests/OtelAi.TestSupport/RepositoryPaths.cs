using System.Runtime.CompilerServices;

namespace OtelAi.TestSupport;

/// <summary>
/// Paths inside the checkout the tests were compiled from. Found from this source file's location, because test
/// binaries may be built anywhere (e.g. with --artifacts-path).
/// </summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>tests/interop: the npm clients and servers we did not write.</summary>
    public static string Interop => Path.Combine(Root, "tests", "interop");

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
            for (var directory = start is null ? null : new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "otelai.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException("cannot find the repository root (otelai.sln)");
    }
}
