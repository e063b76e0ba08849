using System.Diagnostics;
using System.Text;

namespace CoordinationEvents.Testing;

/// <summary>
/// Runs PostgreSQL's command-line tools. <c>initdb</c> and <c>postgres</c> refuse to run as root, so when this
/// process is root every tool runs as the <c>postgres</c> user through <c>runuser</c>.
/// </summary>
internal static class PostgresProcess
{
    public const string ServiceUser = "postgres";

    private static readonly Lazy<bool> IsRootLazy = new(DetectRoot);

    public static bool IsRoot => IsRootLazy.Value;

    public sealed record Result(int ExitCode, string Output)
    {
        public bool Succeeded => ExitCode == 0;
    }

    /// <summary>Runs <paramref name="executable"/> as the postgres user when root, and collects stdout and stderr.</summary>
    public static Result Run(string executable, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout) =>
        Run(executable, arguments, workingDirectory, timeout, asServiceUser: true);

    /// <summary>Runs <paramref name="executable"/> as this process's own user, and collects stdout and stderr.</summary>
    public static Result RunAsSelf(string executable, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout) =>
        Run(executable, arguments, workingDirectory, timeout, asServiceUser: false);

    private static Result Run(string executable, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, bool asServiceUser)
    {
        var startInfo = new ProcessStartInfo
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        if (asServiceUser && IsRoot)
        {
            startInfo.FileName = "runuser";
            startInfo.ArgumentList.Add("-u");
            startInfo.ArgumentList.Add(ServiceUser);
            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add(executable);
        }
        else
        {
            startInfo.FileName = executable;
        }
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // libpq and the server tools read PG* variables (PGDATA, PGPORT, PGHOST, PGOPTIONS …); a developer's own
        // settings must not leak into the throwaway server.
        foreach (var key in startInfo.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(key);
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"Could not start '{startInfo.FileName}': {e.Message}", e);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // exited meanwhile
            }
            process.WaitForExit();
            return new Result(-1, Describe(startInfo) + $" timed out after {timeout.TotalSeconds:0} s\n" + Snapshot(output));
        }
        process.WaitForExit(); // drains the asynchronous readers
        return new Result(process.ExitCode, Snapshot(output));
    }

    public static string Describe(ProcessStartInfo startInfo) =>
        startInfo.FileName + " " + string.Join(' ', startInfo.ArgumentList);

    /// <summary>True when a process with this id exists (on Linux: /proc/&lt;pid&gt;).</summary>
    public static bool ProcessExists(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }
        if (Directory.Exists("/proc/self"))
        {
            return Directory.Exists($"/proc/{pid}");
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The short command name of a process (/proc/&lt;pid&gt;/comm), or null when unknown.</summary>
    public static string? CommandName(int pid)
    {
        try
        {
            var path = $"/proc/{pid}/comm";
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static bool DetectRoot()
    {
        // The effective uid, from /proc on Linux; elsewhere fall back to the user name.
        try
        {
            if (File.Exists("/proc/self/status"))
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    {
                        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                        return fields.Length > 2 && fields[2] == "0";
                    }
                }
            }
        }
        catch (IOException)
        {
            // fall through
        }
        return Environment.UserName == "root";
    }
}
