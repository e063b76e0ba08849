using System.Text;

namespace CoordinationEvents.Api.Activities;

/// <summary>
/// Text as the service stores and compares it: Unicode NFC, so that "Tuần tra" typed on a keyboard that sends
/// decomposed (NFD) characters is the same string as the precomposed one, never a second spelling.
/// </summary>
public static class Text
{
    /// <summary>
    /// The NFC form of <paramref name="s"/>. Lone UTF-16 surrogates (which no JSON input can carry, but a caller
    /// building strings in code might) become U+FFFD instead of throwing.
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

    static string ReplaceLoneSurrogates(string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                i++;
            else if (char.IsSurrogate(chars[i]))
                chars[i] = '\uFFFD';
        }
        return new string(chars);
    }
}
