// The 13 activity kinds, their metrics and dimensions (KindCatalog.cs), with the Vietnamese names the
// officials use (domain.md, shared/seeds/003_…). Metric names are unique across kinds. Text is NFC.
// Metrics marked stock (selfManaged*) are stocks: the API gives their value at the end of each period.
"use strict";
window.CE_CATALOG = Object.freeze({
  activitiesMetric: { name: "activities", label: "Số hoạt động", unit: "hoạt động" },
  kinds: [
    { name: "patrol", label: "Tuần tra", dimensions: ["mode"], metrics: [
      ["patrols", "Số lần tuần tra", "lần"],
      ["patrolParticipants", "Lượt người tham gia tuần tra", "lượt người"],
      ["markersInspected", "Lượt cột mốc được kiểm tra", "lượt"],
      ["intrusionsDetected", "Lượt người nước ngoài sang đất ta bị phát hiện", "lượt người"],
      ["distanceKm", "Quãng đường tuần tra", "km"]] },
    { name: "meeting", label: "Hội nghị, giao ban, hội đàm", dimensions: ["format", "level"], metrics: [
      ["meetings", "Số cuộc hội nghị, giao ban, hội đàm", "cuộc"],
      ["meetingAttendees", "Lượt người dự", "lượt người"],
      ["delegations", "Số đoàn qua lại hội đàm, làm việc", "đoàn"]] },
    { name: "twinning", label: "Kết nghĩa", dimensions: ["pairType", "ceremony"], metrics: [
      ["twinningEvents", "Số hoạt động kết nghĩa", "hoạt động"],
      ["pairsSigned", "Số cặp ký kết kết nghĩa", "cặp"],
      ["twinningParticipants", "Lượt người tham gia kết nghĩa", "lượt người"]] },
    { name: "crime-bust", label: "Đấu tranh phòng, chống tội phạm", dimensions: ["category", "outcome"], metrics: [
      ["cases", "Số vụ phát hiện", "vụ"],
      ["subjects", "Số đối tượng", "đối tượng"],
      ["drugsGrams", "Ma túy thu giữ", "gam"],
      ["goodsValueVnd", "Trị giá hàng hóa vi phạm", "đồng"],
      ["finesVnd", "Tiền phạt", "đồng"]] },
    { name: "weapons-recovery", label: "Vận động thu hồi vũ khí, vật liệu nổ", dimensions: [], metrics: [
      ["weaponsRecovered", "Súng các loại thu hồi", "khẩu"],
      ["explosivesKg", "Vật liệu nổ thu hồi", "kg"],
      ["ammunitionRounds", "Đạn các loại thu hồi", "viên"]] },
    { name: "outreach", label: "Tuyên truyền, phổ biến giáo dục pháp luật", dimensions: ["channel"], metrics: [
      ["outreachSessions", "Số buổi tuyên truyền", "buổi"],
      ["outreachAttendees", "Lượt người nghe", "lượt người"],
      ["householdsGifted", "Hộ được tặng ảnh Bác Hồ, cờ Tổ quốc", "hộ"]] },
    { name: "political-base", label: "Xây dựng cơ sở chính trị", dimensions: [], metrics: [
      ["cadresSeconded", "Cán bộ Biên phòng tăng cường cho xã", "đồng chí"],
      ["partyMembersAdmitted", "Đảng viên được kết nạp", "đảng viên"],
      ["partyCellsEstablished", "Chi bộ được thành lập", "chi bộ"],
      ["partyCellsConsolidated", "Chi bộ được củng cố", "chi bộ"],
      ["massOrganizationsConsolidated", "Tổ chức đoàn thể được củng cố", "tổ chức"],
      ["militiaTrained", "Lượt dân quân, công an viên được huấn luyện", "lượt"],
      ["householdsAssisted", "Hộ được giúp đỡ", "hộ"]] },
    { name: "welfare", label: "Giúp dân phát triển kinh tế - xã hội, an sinh", dimensions: [], metrics: [
      ["housesBuilt", "Nhà Đại đoàn kết được xây dựng", "căn"],
      ["civilWorks", "Công trình dân sinh", "công trình"],
      ["classroomsBuilt", "Phòng học làm mới, tu sửa", "phòng"],
      ["childrenSponsored", "Học sinh được nhận đỡ đầu", "em"],
      ["livestockGiven", "Con giống hỗ trợ", "con"],
      ["supportValueVnd", "Trị giá hỗ trợ", "đồng"],
      ["workdays", "Ngày công giúp dân", "ngày công"]] },
    { name: "self-management", label: "Tự quản đường biên, cột mốc", dimensions: [], stock: true, metrics: [
      ["selfManagedCollectives", "Tập thể tự quản", "tập thể"],
      ["selfManagedIndividuals", "Hộ, cá nhân tự quản", "hộ/cá nhân"],
      ["selfManagedBorderKm", "Đường biên giới tự quản", "km"],
      ["selfManagedMarkers", "Cột mốc tự quản", "cột mốc"]] },
    { name: "rescue", label: "Phòng, chống thiên tai, tìm kiếm cứu nạn", dimensions: ["hazard"], metrics: [
      ["rescueOperations", "Số lần cứu hộ, cứu nạn", "lần"],
      ["rescuePersonnel", "Lượt cán bộ, chiến sĩ tham gia", "lượt người"],
      ["peopleRescued", "Người được cứu", "người"],
      ["householdsHelped", "Hộ được giúp khắc phục hậu quả", "hộ"]] },
    { name: "border-day", label: "Ngày Biên phòng toàn dân", dimensions: [], metrics: [
      ["borderDayEvents", "Số buổi Ngày hội Biên phòng toàn dân", "buổi"],
      ["borderDayAttendees", "Lượt người tham gia Ngày hội", "lượt người"],
      ["giftsValueVnd", "Trị giá quà tặng", "đồng"]] },
    { name: "commendation", label: "Khen thưởng", dimensions: ["level"], metrics: [
      ["commendedCollectives", "Tập thể được khen thưởng", "tập thể"],
      ["commendedIndividuals", "Cá nhân được khen thưởng", "cá nhân"]] },
    { name: "foreign-affairs", label: "Đối ngoại biên phòng, ngoại giao nhân dân", dimensions: ["form"], metrics: [
      ["exchanges", "Số hoạt động đối ngoại", "hoạt động"],
      ["exchangeParticipants", "Lượt người tham gia đối ngoại", "lượt người"]] },
  ],
  // Dimension names as in the API; `level` is shared by meetings and commendations.
  dimensions: {
    mode: { label: "Hình thức tuần tra", values: { independent: "Độc lập", joint: "Phối hợp", bilateral: "Song phương" } },
    format: { label: "Hình thức hội nghị", values: { "review-conference": "Hội nghị sơ kết, tổng kết", briefing: "Giao ban", talks: "Hội đàm với phía nước bạn", delegation: "Đoàn qua lại làm việc" } },
    level: { label: "Cấp", values: { government: "Chính phủ", ministry: "Cấp Bộ", province: "Cấp tỉnh", district: "Cấp huyện", post: "Cấp Đồn Biên phòng", commune: "Cấp xã", unit: "Cấp đơn vị" } },
    pairType: { label: "Loại cặp kết nghĩa", values: { "village-village": "Thôn - bản", "post-station": "Đồn - trạm biên phòng", "commune-commune": "Xã - xã", other: "Khác" } },
    ceremony: { label: "Hoạt động kết nghĩa", values: { signing: "Ký kết", review: "Sơ kết, tổng kết", exchange: "Giao lưu" } },
    category: { label: "Loại vụ việc", values: { drugs: "Ma túy", smuggling: "Buôn lậu", "trade-fraud": "Gian lận thương mại", "illegal-border-crossing": "Xuất, nhập cảnh trái phép", "human-trafficking": "Mua bán người", "counterfeit-money": "Tiền giả", "weapons-explosives": "Vũ khí, vật liệu nổ", "border-regulation": "Vi phạm quy chế biên giới", other: "Khác" } },
    outcome: { label: "Kết quả xử lý", values: { prosecuted: "Khởi tố", administrative: "Xử lý vi phạm hành chính", transferred: "Chuyển cơ quan chức năng", pending: "Đang xác minh" } },
    channel: { label: "Hình thức tuyên truyền", values: { meeting: "Họp dân", loudspeaker: "Loa truyền thanh", school: "Tại trường học", media: "Phương tiện thông tin đại chúng", "door-to-door": "Đến từng hộ gia đình" } },
    hazard: { label: "Loại thiên tai, sự cố", values: { flood: "Lũ, lụt", landslide: "Sạt lở đất", fire: "Hỏa hoạn", "forest-fire": "Cháy rừng", storm: "Bão, lốc", epidemic: "Dịch bệnh", other: "Khác" } },
    form: { label: "Hình thức đối ngoại", values: { letter: "Thư, điện", visit: "Thăm hỏi", "cultural-exchange": "Giao lưu văn hóa", "sports-exchange": "Giao lưu thể thao", hotline: "Đường dây nóng", "information-exchange": "Trao đổi thông tin" } },
  },
  unitTypes: { province: "Tỉnh", district: "Huyện", "border-post": "Đồn Biên phòng", commune: "Xã" },
});
