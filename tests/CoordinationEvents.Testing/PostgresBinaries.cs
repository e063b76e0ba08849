namespace CoordinationEvents.Testing;

/// <summary>Where the machine's PostgreSQL server binaries (initdb, pg_ctl) are.</summary>
internal sealed record PostgresBinaries(string Directory)
{
    public string InitDb => Path.Combine(Directory, "initdb");

    public string PgCtl => Path.Combine(Directory, "pg_ctl");

    /// <summary>
    /// The first directory on PATH holding both initdb and pg_ctl; otherwise the highest version under
    /// /usr/lib/postgresql/*/bin (Debian's layout, which is not on PATH). Null when there is none.
    /// </summary>
    public static PostgresBinaries? Find(string? path = null, string debianRoot = "/usr/lib/postgresql")
    {
        path ??= Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (HasServerTools(directory))
            {
                return new PostgresBinaries(directory);
            }
        }

        if (!System.IO.Directory.Exists(debianRoot))
        {
            return null;
        }
        return System.IO.Directory.GetDirectories(debianRoot)
            .Select(versionDirectory => (Version: ParseVersion(Path.GetFileName(versionDirectory)), Bin: Path.Combine(versionDirectory, "bin")))
            .Where(candidate => candidate.Version is not null && HasServerTools(candidate.Bin))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => new PostgresBinaries(candidate.Bin))
            .FirstOrDefault();
    }

    public static PostgresBinaries FindOrThrow() =>
        Find() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH nor under /usr/lib/postgresql/*/bin. " +
            "Install them (deploy/install-prereqs.sh, or: apt-get install postgresql-15), " +
            "or set COORDINATION_TEST_DB to the connection string of a server whose user may CREATE DATABASE.");

    private static bool HasServerTools(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.') ? name : name + ".0", out var version) ? version : null;
}
