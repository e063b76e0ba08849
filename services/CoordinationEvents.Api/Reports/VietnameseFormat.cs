using System.Globalization;

namespace CoordinationEvents.Api.Reports;

/// <summary>
/// Numbers the way Vietnamese official documents write them: '.' groups thousands, ',' separates decimals
/// (1.236; 97,229 km; 13,5 tỷ đồng). Written out by hand rather than through the vi-VN culture, so the
/// output does not depend on the ICU data of the machine.
/// </summary>
public static class VietnameseFormat
{
    const decimal Billion = 1_000_000_000m;
    const decimal Million = 1_000_000m;

    /// <summary>A whole number with '.' thousands separators: 1236 → "1.236", 0 → "0".</summary>
    public static string Integer(long value) => Number(value);

    /// <summary>
    /// A number with '.' thousands separators and ',' before the decimals, trailing zeros trimmed:
    /// 97.229 → "97,229", 1234.5 → "1.234,5", 1236 → "1.236".
    /// </summary>
    public static string Number(decimal value)
    {
        // Invariant "#,##0.###…" gives "1,234.5"; swap the two separators.
        var invariant = value.ToString("#,##0.############################", CultureInfo.InvariantCulture);
        var chars = invariant.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = chars[i] switch { ',' => '.', '.' => ',', var c => c };
        }
        return new string(chars);
    }

    /// <summary>
    /// An amount of đồng. From 1 tỷ (10^9) up: "x tỷ đồng" with at most 2 decimals ("5 tỷ đồng",
    /// "13,5 tỷ đồng"), except that a whole number of millions that 2 decimals of tỷ would round stays exact
    /// in triệu, as 003 writes it ("1.473 triệu đồng" for 1.473.000.000 đồng). From 1 triệu (10^6) up:
    /// "x triệu đồng" with at most 2 decimals. Below: "x đồng" in whole đồng ("500.000 đồng").
    /// </summary>
    public static string Vnd(decimal amount)
    {
        var magnitude = Math.Abs(amount);
        if (magnitude >= Billion)
        {
            var billions = amount / Billion;
            var millions = amount / Million;
            return Round2(billions) != billions && decimal.Truncate(millions) == millions
                ? $"{Number(millions)} triệu đồng"
                : $"{Number(Round2(billions))} tỷ đồng";
        }
        if (magnitude >= Million)
        {
            var millions = Round2(amount / Million);
            // 999.999.999 đồng rounds to 1.000 triệu: say 1 tỷ instead.
            return Math.Abs(millions) >= 1000m
                ? $"{Number(Round2(amount / Billion))} tỷ đồng"
                : $"{Number(millions)} triệu đồng";
        }
        return $"{Number(Math.Round(amount, 0, MidpointRounding.AwayFromZero))} đồng";
    }

    /// <summary>A date as official documents write it: 01/01/2019.</summary>
    public static string Date(DateOnly date) => date.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);

    static decimal Round2(decimal value) => Math.Round(value, 2, MidpointRounding.AwayFromZero);
}
