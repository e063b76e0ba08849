using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Reports;

namespace CoordinationEvents.Api.Tests.Reports;

public class VietnameseFormatTests
{
    [Theory]
    [InlineData(0L, "0")]
    [InlineData(7L, "7")]
    [InlineData(999L, "999")]
    [InlineData(1_236L, "1.236")]
    [InlineData(69_750L, "69.750")]
    [InlineData(1_000_000L, "1.000.000")]
    [InlineData(12_345_678_901_234L, "12.345.678.901.234")]
    public void Integers_group_thousands_with_dots(long value, string expected) =>
        Assert.Equal(expected, VietnameseFormat.Integer(value));

    [Theory]
    [InlineData("97.229", "97,229")]
    [InlineData("1234.5", "1.234,5")]
    [InlineData("1234.500", "1.234,5")]
    [InlineData("0.5", "0,5")]
    [InlineData("0", "0")]
    [InlineData("0.000", "0")]
    [InlineData("1236", "1.236")]
    [InlineData("1236.0", "1.236")]
    [InlineData("1000000.125", "1.000.000,125")]
    [InlineData("-1234.5", "-1.234,5")]
    public void Decimals_use_a_comma_and_trim_trailing_zeros(string value, string expected) =>
        Assert.Equal(expected, VietnameseFormat.Number(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData(0L, "0 đồng")]
    [InlineData(500_000L, "500.000 đồng")]
    [InlineData(999_999L, "999.999 đồng")]
    [InlineData(1_000_000L, "1 triệu đồng")]
    [InlineData(1_500_000L, "1,5 triệu đồng")]
    [InlineData(350_000_000L, "350 triệu đồng")]
    [InlineData(999_999_999L, "1 tỷ đồng")]
    [InlineData(1_000_000_000L, "1 tỷ đồng")]
    [InlineData(5_000_000_000L, "5 tỷ đồng")]
    [InlineData(13_500_000_000L, "13,5 tỷ đồng")]
    [InlineData(13_456_700_000L, "13,46 tỷ đồng")]
    [InlineData(12_345_678_901_234L, "12.345,68 tỷ đồng")]
    [InlineData(10_000_000_000_000L, "10.000 tỷ đồng")]
    public void Vnd_amounts_use_ty_and_trieu(long amount, string expected) =>
        Assert.Equal(expected, VietnameseFormat.Vnd(amount));

    [Theory]
    [InlineData(1_473_000_000L, "1.473 triệu đồng")]
    [InlineData(12_345_000_000L, "12.345 triệu đồng")]
    [InlineData(1_473_500_000L, "1,47 tỷ đồng")]
    public void Billions_not_exact_to_two_decimals_stay_exact_in_trieu_when_whole_millions(long amount, string expected) =>
        Assert.Equal(expected, VietnameseFormat.Vnd(amount));

    [Fact]
    public void Dates_are_day_month_year() =>
        Assert.Equal("03/03/2024", VietnameseFormat.Date(new DateOnly(2024, 3, 3)));
}
