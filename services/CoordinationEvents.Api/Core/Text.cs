using System.Text;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// Text as the service stores and compares it: Unicode NFC, so that "Tuần tra" typed on a keyboard that sends
/// decomposed (NFD) characters is the same string as the precomposed one, never a second spelling.
/// </summary>
public static class Text
{
    /// <summary>
    /// The NFC form of <paramref name="s"/>; never throws. .NET refuses to normalize a string with an unpaired
    /// UTF-16 surrogate or the noncharacter U+FFFE (both can arrive as JSON escapes); those become U+FFFD here,
    /// and validation refuses them beforehand with <see cref="IsStorable"/>, so they are never stored changed.
    /// </summary>
    public static string Nfc(string s)
    {
        if (s.Length == 0)
            return s;
        try
        {
            return s.IsNormalized(NormalizationForm.FormC) ? s : s.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            return ReplaceLoneSurrogates(s).Normalize(NormalizationForm.FormC);
        }
    }

    /// <summary>NFC, then trimmed; <c>null</c> stays <c>null</c>.</summary>
    public static string? Clean(string? s) => s is null ? null : Nfc(s).Trim();

    /// <summary>
    /// Whether <paramref name="s"/> can be stored as it was sent: no U+0000 (which PostgreSQL's text and jsonb
    /// cannot hold: jsonb answers "unsupported Unicode escape sequence"), no unpaired UTF-16 surrogate (which
    /// UTF-8 cannot encode) and no noncharacter U+FFFE (which .NET cannot normalize to NFC); <see cref="Nfc"/>
    /// would otherwise silently turn the last two into U+FFFD. <c>null</c> is storable.
    /// </summary>
    public static bool IsStorable(string? s)
    {
        if (s is null)
            return true;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c is '\0' or '\uFFFE')
                return false;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                i++;
            else if (char.IsSurrogate(c))
                return false;
        }
        return true;
    }

    /// <summary>The message for a field whose text <see cref="IsStorable"/> refuses.</summary>
    public static string NotStorable(string field) =>
        $"'{field}' holds a character that cannot be stored: U+0000 (NUL), U+FFFE or an unpaired surrogate (such as \\ud800). Remove it.";

    static string ReplaceLoneSurrogates(string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                i++;
            else if (char.IsSurrogate(chars[i]) || chars[i] == '\uFFFE')
                chars[i] = '\uFFFD';
        }
        return new string(chars);
    }
}
