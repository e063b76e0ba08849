using System.Buffers;

namespace CoordinationEvents.Api.Imports;

/// <summary>One line of an NDJSON body: its 1-based number and its bytes (valid until the next line is taken).</summary>
public readonly record struct NdjsonLine(int Number, ArraySegment<byte> Bytes, bool TooLong)
{
    /// <summary>Nothing but spaces and tabs (a blank line is skipped; its number still counts).</summary>
    public bool IsBlank => !TooLong && Bytes.AsSpan().IndexOfAnyExcept((byte)' ', (byte)'\t') < 0;
}

/// <summary>
/// Splits a body into lines as it streams in, holding at most one line (up to <c>maxLineBytes</c>) in memory. A
/// line ends at <c>\n</c>; a <c>\r</c> before it, and a UTF-8 byte order mark at the start of the body, are dropped.
/// A longer line is not kept: it comes out with <see cref="NdjsonLine.TooLong"/>.
/// </summary>
public sealed class NdjsonLines(int maxLineBytes) : IDisposable
{
    readonly byte[] buffer = ArrayPool<byte>.Shared.Rent(maxLineBytes + 1);
    int length;
    bool tooLong;
    int number;

    /// <summary>Consumes <paramref name="data"/> up to and including the end of the next line; false when it ran out first.</summary>
    public bool TryTake(ref ReadOnlySequence<byte> data, out NdjsonLine line)
    {
        var end = data.PositionOf((byte)'\n');
        Append(end is { } e ? data.Slice(0, e) : data);
        if (end is null)
        {
            data = data.Slice(data.End);
            line = default;
            return false;
        }
        data = data.Slice(data.GetPosition(1, end.Value));
        line = Emit();
        return true;
    }

    /// <summary>The last line, when the body does not end with a newline.</summary>
    public bool TryFinish(out NdjsonLine line)
    {
        if (length == 0 && !tooLong) { line = default; return false; }
        line = Emit();
        return true;
    }

    void Append(ReadOnlySequence<byte> part)
    {
        if (tooLong) return;
        if (length + part.Length > maxLineBytes + 1) { tooLong = true; return; } // + 1: room for a '\r' that is dropped
        part.CopyTo(buffer.AsSpan(length));
        length += (int)part.Length;
    }

    NdjsonLine Emit()
    {
        number++;
        var start = 0;
        var count = length;
        if (number == 1 && count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) { start = 3; count -= 3; }
        if (count > 0 && buffer[start + count - 1] == (byte)'\r') count--;
        var over = tooLong || count > maxLineBytes;
        var line = new NdjsonLine(number, new ArraySegment<byte>(buffer, start, over ? 0 : count), over);
        length = 0;
        tooLong = false;
        return line;
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
}
