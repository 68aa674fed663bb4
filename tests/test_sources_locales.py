"""Platform exports as users download them in their UI language (issue 9): localized headers,
decimal and grouping conventions, title lines, BOMs, total rows reconciled against the data,
multi-day rows spread over their days, channels from the campaign type.

Every expected number is computed here with plain pandas from the numbers typed in the test;
the fixtures are written in the exact shape the platforms export (see docs/sources.md for where
each header and total label was found)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources

# (day, campaign, campaign type, cost, impressions, clicks): typed once, written per language
ROWS = [
    ("2025-07-08", "Brand", "Search", 1487.67, 1053, 87),
    ("2025-07-09", "Brand", "Search", 12.30, 980, 12),
    ("2025-07-09", "Launch video", "Video", 2100.00, 12400, 33),
    ("2025-07-10", "Retargeting", "Display", 305.05, 250118, 1204),
]

# language: (day, campaign, type, cost, impressions, clicks headers), total label, decimal, group
LANGUAGES = {
    "en": (("Day", "Campaign", "Campaign type", "Cost", "Impr.", "Clicks"), "Total: Account", ".", ","),
    "es": (("Día", "Campaña", "Tipo de campaña", "Coste", "Impr.", "Clics"), "Total: Cuenta", ",", "."),
    "id": (("Hari", "Kampanye", "Jenis kampanye", "Biaya", "Tayangan", "Klik"), "Total: Akun", ",", "."),
    "zh_Hant": (("日期", "廣告活動", "廣告活動類型", "費用", "曝光", "點擊"), "總計：帳戶", ".", ","),
    "zh_Hans": (("日期", "广告系列", "广告系列类型", "费用", "展示次数", "点击次数"), "总计：账号", ".", ","),
    "nl": (("Dag", "Campagne", "Campagnetype", "Kosten", "Vertoningen", "Klikken"), "Totaal: account", ",", "."),
    "de": (("Tag", "Kampagne", "Kampagnentyp", "Kosten", "Impr.", "Klicks"), "Gesamt: Konto", ",", "."),
    "fr": (("Jour", "Campagne", "Type de campagne", "Coût", "Impr.", "Clics"), "Total : compte", ",", "\u202f"),
    "pt": (("Dia", "Campanha", "Tipo de campanha", "Custo", "Impr.", "Cliques"), "Total: conta", ",", "."),
    "it": (("Giorno", "Campagna", "Tipo di campagna", "Costo", "Impr.", "Clic"), "Totale: account", ",", "."),
    "ja": (
        ("日", "キャンペーン", "キャンペーン タイプ", "費用", "表示回数", "クリック数"),
        "合計: アカウント",
        ".",
        ",",
    ),
}


def written(value: float, decimal: str, group: str, decimals: int) -> str:
    """A number as the UI writes it, quoted as a CSV cell ("1.487,67")."""
    text = f"{value:,.{decimals}f}".replace(",", "\0").replace(".", decimal).replace("\0", group)
    return f'"{text}"'


def google_ads_export(language: str, *, total_cost: float | None = None, types: dict[str, str] | None = None) -> str:
    headers, total_label, decimal, group = LANGUAGES[language]
    frame = pd.DataFrame(ROWS, columns=["day", "campaign", "type", "cost", "impressions", "clicks"])
    frame["type"] = frame["type"].replace(types or {})
    lines = ["Campaign report", '"July 8, 2025 - July 10, 2025"', ",".join(headers)]
    for row in frame.itertuples():
        lines.append(
            f"{row.day},{row.campaign},{row.type},{written(row.cost, decimal, group, 2)},"
            f"{written(row.impressions, decimal, group, 0)},{written(row.clicks, decimal, group, 0)}"
        )
    cost = frame["cost"].sum() if total_cost is None else total_cost
    lines.append(
        f"{total_label},--,--,{written(cost, decimal, group, 2)},"
        f"{written(frame['impressions'].sum(), decimal, group, 0)},{written(frame['clicks'].sum(), decimal, group, 0)}"
    )
    return "\ufeff" + "\n".join(lines) + "\n"


def load(
    tmp_path: Path,
    content: str,
    *,
    kind: str = "google_ads",
    period: str = "2025-07",
    report_currency: str = "EUR",
    **source,
):
    (tmp_path / "export.csv").write_text(content, encoding="utf-8")
    config = config_from_dict(
        {
            "report": {"period": period, "currency": report_currency},
            "sources": [{"name": "ads", "type": kind, "path": "export.csv", "table": "spend", **source}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables["spend"], inputs[0]


def findings(loaded, code: str) -> list:
    return [f for f in loaded.findings if f.code == code]


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_google_ads_export_in_each_language(tmp_path, language):
    expected = pd.DataFrame(ROWS, columns=["day", "campaign", "type", "cost", "impressions", "clicks"])
    frame, loaded = load(tmp_path, google_ads_export(language))
    assert len(frame) == len(expected)
    assert frame["cost"].sum() == pytest.approx(expected["cost"].sum())
    assert frame["impressions"].tolist() == expected["impressions"].astype(float).tolist()  # 1.053 is 1053
    assert frame["clicks"].tolist() == expected["clicks"].astype(float).tolist()
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == expected["day"].tolist()
    channels = dict(zip(frame["campaign"], frame["channel"], strict=False))
    assert channels == {"Brand": "Paid Search", "Launch video": "Online Video", "Retargeting": "Display"}
    assert set(frame["platform"]) == {"Google Ads"}
    reconciled = findings(loaded, "totals_reconciled")
    assert reconciled and not findings(loaded, "totals_mismatch")
    sums = f"cost {expected['cost'].sum():,.2f}, impressions {expected['impressions'].sum():,}, clicks {expected['clicks'].sum():,}"  # noqa: E501 (data as exported)
    assert sums in reconciled[0].message, reconciled[0].message


def test_a_wrong_total_row_is_a_warning(tmp_path):
    frame, loaded = load(tmp_path, google_ads_export("nl", total_cost=1487.67))
    (warning,) = findings(loaded, "totals_mismatch")
    assert warning.severity == "warning"
    assert "'Totaal: account'" in warning.message and "cost 1,487.67" in warning.message
    assert f"{frame['cost'].sum():,.2f}" in warning.message


def test_dot_grouping_with_the_decimal_option_is_never_a_decimal(tmp_path):
    # the case: a column map on a plain csv source, options.decimal ','
    content = 'Dag,Campagne,Kosten,Vertoningen\n2025-07-08,Merk,"1487,67",1.053\n2025-07-09,Merk,"12,30",980\n'
    frame, _ = load(
        tmp_path,
        content,
        kind="csv",
        columns={"Dag": "date", "Campagne": "campaign", "Kosten": "cost", "Vertoningen": "impressions"},
        values={"channel": "Paid Search"},
        options={"decimal": ","},
    )
    assert frame["impressions"].tolist() == [1053.0, 980.0]
    assert frame["cost"].sum() == pytest.approx(1487.67 + 12.30)


def test_the_locale_of_a_source_settles_numbers(tmp_path):
    content = "date,channel,cost\n2025-07-08,Email,1.053\n2025-07-09,Email,2.500\n"
    frame, _ = load(tmp_path, content, kind="csv", locale="de")
    assert frame["cost"].tolist() == [1053.0, 2500.0]


def test_numbers_that_read_two_ways_are_a_finding_naming_the_option(tmp_path):
    content = "date,channel,cost\n2025-07-08,Email,1.053\n2025-07-09,Email,2.500\n"
    frame, loaded = load(tmp_path, content, kind="csv")
    (finding,) = findings(loaded, "ambiguous_numbers")
    assert "'1.053'" in finding.message and "options.decimal" in finding.message and "locale" in finding.message
    assert frame["cost"].tolist() == [1.053, 2.5]  # read as written in English, and said so


def test_title_line_range_without_a_day_column_is_spread_over_its_days(tmp_path):
    content = (
        'Campaign report\n"July 8, 2025 - July 31, 2025"\nCampaign,Campaign type,Cost,Impr.,Clicks\n'
        'Brand,Search,"1,200.00","12,000",240\nTotal: Account,--,"1,200.00","12,000",240\n'
    )
    frame, loaded = load(tmp_path, content)
    days = pd.date_range("2025-07-08", "2025-07-31")
    assert frame["date"].tolist() == list(days)
    assert frame["cost"].sum() == pytest.approx(1200.0)
    assert frame["cost"].iloc[0] == pytest.approx(1200.0 / len(days))
    assert findings(loaded, "multi_day_rows")[0].count == 1
    assert findings(loaded, "totals_reconciled")


def test_dutch_title_range(tmp_path):
    content = (
        'Campagnerapport\n9 mei 2020 - 7 juni 2020\nCampagne,Kosten,Vertoningen,Klikken\nMerk,"290,00","1.450",29\n'
    )
    frame, _ = load(tmp_path, content, period="2020-05")
    may = frame[frame["date"] < "2020-06-01"]["cost"].sum()
    assert may == pytest.approx(290.0 * 23 / 30)  # 9-31 May of 30 days
    assert frame["impressions"].sum() == pytest.approx(1450.0)


def meta_export(rows: list[tuple[str, str, float]]) -> str:
    lines = ["Reporting starts,Reporting ends,Campaign name,Ad set name,Impressions,Link clicks,Amount spent (GBP)"]
    lines += [f"{start},{end},Spring,UK 25-44,1000,10,{cost:.2f}" for start, end, cost in rows]
    return "\n".join(lines) + "\n"


def test_weekly_meta_export_across_a_month_boundary_is_split_pro_rata(tmp_path):
    frame, loaded = load(
        tmp_path,
        meta_export([("30/03/2025", "05/04/2025", 700.0)]),
        kind="meta_ads",
        period="2025-04",
        values={"currency": "EUR"},
    )
    per_month = frame.groupby(frame["date"].dt.to_period("M"))["cost"].sum()
    days = pd.date_range("2025-03-30", "2025-04-05")
    expected = pd.Series(700.0 / len(days), index=days).groupby(days.to_period("M")).sum()
    assert per_month.to_dict() == pytest.approx(expected.to_dict())
    assert per_month[pd.Period("2025-04")] == pytest.approx(500.0)
    assert findings(loaded, "multi_day_outside_period")  # 2/7 of it falls in March


# Meta Ads Manager exports per UI language (sources in META_ADS_LANGUAGES): start, end (None:
# no "Reporting ends" header found), campaign, impressions, link clicks, amount spent; decimal, group
META_LANGUAGES = {
    "es": (
        (
            "Inicio del informe",
            "Fin del informe",
            "Nombre de la campaña",
            "Impresiones",
            "Clics en el enlace",
            "Importe gastado (EUR)",
        ),
        ",",
        ".",
    ),
    "fr": (
        (
            "Début des rapports",
            "Fin des rapports",
            "Nom de la campagne",
            "Impressions",
            "Clics sur un lien",
            "Montant dépensé (EUR)",
        ),
        ",",
        "\u202f",
    ),
    "it": (
        (
            "Inizio dei report",
            "Fine dei report",
            "Nome della campagna",
            "Impression",
            "Clic sul link",
            "Importo speso (EUR)",
        ),
        ",",
        ".",
    ),
    "nl": (
        (
            "Start rapportage",
            "Einde rapportage",
            "Campagnenaam",
            "Weergaven",
            "Klikken op links",
            "Besteed bedrag (EUR)",
        ),
        ",",
        ".",
    ),
    "id": (
        (
            "Awal pelaporan",
            "Akhir pelaporan",
            "Nama kampanye",
            "Impresi",
            "Klik tautan",
            "Jumlah yang dibelanjakan (IDR)",
        ),
        ",",
        ".",
    ),
    "zh_Hant": (
        ("分析報告開始", "分析報告結束", "行銷活動名稱", "曝光次數", "連結點擊次數", "花費金額 (TWD)"),
        ".",
        ",",
    ),
    "ja": (
        (
            "レポート開始日",
            "レポート終了日",
            "キャンペーン名",
            "インプレッション",
            "リンクのクリック",
            "消化金額 (JPY)",
        ),
        ".",
        ",",
    ),
    "zh_Hans": (
        ("报告开始日期", "报告结束日期", "广告系列名称", "展示次数", "链接点击量", "已花费金额 (USD)"),
        ".",
        ",",
    ),
    "de": (
        (
            "Berichtsstart",
            "Berichtsende",
            "Kampagnenname",
            "Impressionen",
            "Link-Klicks",
            "Ausgegebener Betrag (EUR)",
        ),
        ",",
        ".",
    ),
}
# (start, end, campaign, amount spent, impressions, link clicks): two weeks, the first across March/April
META_WEEKS = [
    ("2025-03-30", "2025-04-05", "Spring", 1487.67, 10530, 87),
    ("2025-04-06", "2025-04-12", "Launch", 2100.00, 12400, 1204),
]
META_DAYS = [("2025-04-01", None, "Spring", 1487.67, 10530, 87), ("2025-04-02", None, "Launch", 2100.00, 12400, 1204)]


def meta_language_export(language: str) -> tuple[str, list[tuple]]:
    (start, end, campaign, impressions, clicks, spent), decimal, group = META_LANGUAGES[language]
    rows = META_WEEKS if end else META_DAYS
    lines = [",".join(h for h in (start, end, campaign, impressions, clicks, spent) if h)]
    for first, last, name, cost, impr, link in rows:
        cells = [
            first,
            *([last] if end else []),
            name,
            written(impr, decimal, group, 0),
            written(link, decimal, group, 0),
            written(cost, decimal, group, 2),
        ]
        lines.append(",".join(cells))
    return "\ufeff" + "\n".join(lines) + "\n", rows


@pytest.mark.parametrize("language", list(META_LANGUAGES))
def test_meta_export_in_each_language(tmp_path, language):
    content, rows = meta_language_export(language)
    currency = META_LANGUAGES[language][0][5][-4:-1]
    (tmp_path / "meta.csv").write_text(content, encoding="utf-8")
    config = config_from_dict(
        {
            "report": {"period": "2025-04", "currency": currency},
            "sources": [{"name": "meta", "type": "meta_ads", "path": "meta.csv", "table": "spend"}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, _ = load_sources(config, build_registry().sources)
    frame = tables["spend"]
    # each row's amounts spread evenly over its days, computed here with plain pandas
    typed = pd.DataFrame(rows, columns=["start", "end", "campaign", "cost", "impressions", "clicks"])
    typed["end"] = typed["end"].fillna(typed["start"])
    days = [pd.date_range(r.start, r.end) for r in typed.itertuples()]
    expected = pd.DataFrame(
        {
            "date": [d for span in days for d in span],
            "cost": [r.cost / len(span) for r, span in zip(typed.itertuples(), days, strict=True) for _ in span],
            "impressions": [
                r.impressions / len(span) for r, span in zip(typed.itertuples(), days, strict=True) for _ in span
            ],
        }
    )
    assert frame["cost"].sum() == pytest.approx(typed["cost"].sum())
    assert frame["clicks"].sum() == pytest.approx(typed["clicks"].sum())  # 1.204 / 1,204 is 1204
    assert frame["date"].tolist() == expected["date"].tolist()
    month = frame.groupby(frame["date"].dt.to_period("M"))["cost"].sum()
    expected_month = expected.groupby(expected["date"].dt.to_period("M"))["cost"].sum()
    assert month.to_dict() == pytest.approx(expected_month.to_dict())
    assert frame["impressions"].sum() == pytest.approx(expected["impressions"].sum())
    assert set(frame["currency"]) == {currency} and set(frame["channel"]) == {"Paid Social"}
    assert set(frame["campaign"]) == set(typed["campaign"])


@pytest.mark.parametrize(
    "day, start, end, spent",
    [
        ("日", "レポート開始日", "レポート終了日", "消化金額 (JPY)"),
        ("天數", "分析報告開始", "分析報告結束", "花費金額 (TWD)"),
    ],
    ids=["ja", "zh_Hant"],
)
def test_a_daily_breakdown_in_a_new_language_keeps_each_row_on_its_day(tmp_path, day, start, end, spent):
    # a daily breakdown still carries the report's first and last day: they must not spread the rows
    daily = [("2025-04-01", 1200.0), ("2025-04-02", 800.0), ("2025-04-03", 1000.0)]
    lines = [f"{start},{end},{day},{spent}"] + [f"2025-04-01,2025-04-03,{d},{c:.0f}" for d, c in daily]
    currency = spent[-4:-1]
    frame, loaded = load(
        tmp_path,
        "\n".join(lines) + "\n",
        kind="meta_ads",
        period="2025-04",
        values={"currency": currency},
        report_currency=currency,
    )
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [d for d, _ in daily]
    assert frame["cost"].tolist() == [c for _, c in daily]
    assert not findings(loaded, "multi_day_rows")


def test_monthly_uk_dated_meta_export_needs_no_date_option(tmp_path):
    rows = [("01/01/2025", "31/01/2025", 310.0), ("01/02/2025", "28/02/2025", 280.0)]
    frame, _ = load(tmp_path, meta_export(rows), kind="meta_ads", period="2025-01", values={"currency": "EUR"})
    per_month = frame.groupby(frame["date"].dt.to_period("M"))["cost"].sum()
    assert per_month.to_dict() == pytest.approx({pd.Period("2025-01"): 310.0, pd.Period("2025-02"): 280.0})
    assert len(frame) == 31 + 28


def test_channel_map_overrides_the_default(tmp_path):
    frame, _ = load(tmp_path, google_ads_export("en"), channel_map={"Campaign type": {"Video": "YouTube"}})
    assert dict(zip(frame["campaign"], frame["channel"], strict=False))["Launch video"] == "YouTube"
    assert dict(zip(frame["campaign"], frame["channel"], strict=False))["Brand"] == "Paid Search"


# campaign types as the UI writes them in its language (sources in GOOGLE_ADS_CHANNELS)
LOCAL_TYPES = {
    "es": {"Search": "Búsqueda", "Video": "Máximo rendimiento"},
    "ja": {"Search": "検索", "Video": "P-MAX", "Display": "ディスプレイ"},
    "id": {"Video": "Performa Maksimal"},
}


@pytest.mark.parametrize("language", list(LOCAL_TYPES))
def test_localized_campaign_types_map_to_channels(tmp_path, language):
    frame, loaded = load(tmp_path, google_ads_export(language, types=LOCAL_TYPES[language]))
    channels = dict(zip(frame["campaign"], frame["channel"], strict=False))
    assert channels == {"Brand": "Paid Search", "Launch video": "Performance Max", "Retargeting": "Display"}
    assert not findings(loaded, "campaign_types_unmapped")


# Downloads shaped as public projects quote them (docs/sources.md): a campaign report with no
# Day column (its range in the title), the status column first, per-type subtotal rows.
SUBTOTALLED = {
    "es_419": (  # es-419: "Costo", dot decimals; Shopping is "Compras"
        ["Informe de campañas", '"1 de julio de 2025 - 31 de julio de 2025"'],
        "Estado de la campaña,Campaña,Tipo de campaña,Código de moneda,Costo,Impr.,Clics",
        [
            ("Habilitada", "Marca", "Búsqueda", "1,487.67", "1,053", "87"),
            ("Habilitada", "Tienda", "Compras", "305.05", "250,118", "1,204"),
            ("Detenida", "Lanzamiento", "Video", "2,100.00", "12,400", "33"),
        ],
        ["Total: Búsqueda", "Total: Compras", "Total: Video", "Total: Cuenta", "Total: Campañas filtradas"],
        {"Marca": "Paid Search", "Tienda": "Shopping", "Lanzamiento": "Online Video"},
    ),
    "pt": (  # pt-BR: comma decimals; Search is "Pesquisa", Demand Gen "Geração de demanda"
        ["Performance da campanha", '"1 de setembro de 2026 - 30 de setembro de 2026"'],
        "Campanha,Estado da campanha,Tipo de campanha,Código da moeda,Custo,Impr.,Cliques",
        [
            ("Leads", "Ativada", "Pesquisa", "1.487,67", "1.053", "87"),
            ("Alcance", "Ativada", "Geração de demanda", "305,05", "250.118", "1.204"),
        ],
        ["Total: contas", "Total: campanhas"],
        {"Leads": "Paid Search", "Alcance": "Demand Gen"},
    ),
}


@pytest.mark.parametrize("language", list(SUBTOTALLED))
def test_type_names_and_subtotal_rows_of_real_downloads(tmp_path, language):
    title, header, rows, total_labels, channels = SUBTOTALLED[language]
    decimal = "," if language == "pt" else "."

    def number(text: str) -> float:  # as the UI wrote it, read here without roistory
        return float(text.replace("." if decimal == "," else ",", "").replace(decimal, "."))

    typed = pd.DataFrame(rows, columns=["a", "b", "type", "cost", "impressions", "clicks"])
    for column in ("cost", "impressions", "clicks"):
        typed[column] = typed[column].map(number)
    campaign_first = header.startswith("Campanha")
    lines = [*title, header]
    for a, b, kind, cost, impressions, clicks in rows:
        lines.append(f'{a},{b},{kind},EUR,"{cost}","{impressions}","{clicks}"')
    group = "." if decimal == "," else ","
    total = ",".join(
        written(typed[column].sum(), decimal, group, places)
        for column, places in (("cost", 2), ("impressions", 0), ("clicks", 0))
    )
    for label in total_labels:  # a per-type subtotal carries only its type's numbers: any one total may match
        lines.append(f"{label},--,--,EUR,{total}" if campaign_first else f"--,{label},--,EUR,{total}")
    frame, loaded = load(tmp_path, "\n".join(lines) + "\n", period="2025-07" if language != "pt" else "2026-09")
    assert sorted(frame["campaign"].unique()) == sorted(channels)  # the subtotal rows are not data
    first, last = ("2026-09-01", "2026-09-30") if language == "pt" else ("2025-07-01", "2025-07-31")
    assert (frame["date"].min(), frame["date"].max()) == (pd.Timestamp(first), pd.Timestamp(last))  # the title's
    assert frame["cost"].sum() == pytest.approx(typed["cost"].sum())
    assert frame["impressions"].sum() == pytest.approx(typed["impressions"].sum())
    assert dict(zip(frame["campaign"], frame["channel"], strict=False)) == channels
    assert not findings(loaded, "campaign_types_unmapped")
    assert findings(loaded, "totals_reconciled") and not findings(loaded, "totals_mismatch")


def test_french_and_portuguese_video_type_names(tmp_path):
    for language, video in (("fr", "Vidéo"), ("pt", "Vídeo")):
        frame, loaded = load(tmp_path, google_ads_export(language, types={"Video": video}))
        assert dict(zip(frame["campaign"], frame["channel"], strict=False))["Launch video"] == "Online Video"
        assert not findings(loaded, "campaign_types_unmapped")


def test_spanish_search_impression_share(tmp_path):
    shares = ["45,32 %", "< 10 %", "> 90 %"]
    lines = [
        "Informe de campañas",
        "1 de julio de 2025 - 31 de julio de 2025",
        "Día,Campaña,Tipo de campaña,Coste,Impr.,Clics,Cuota de impr. de búsqueda",
    ]
    lines += [f'2025-07-0{i + 1},Marca,Búsqueda,"12,50",100,4,"{share}"' for i, share in enumerate(shares)]
    frame, _ = load(tmp_path, "\n".join(lines) + "\n")
    assert frame["impression_share"].tolist() == pytest.approx([0.4532, 0.1, 0.9])
    assert set(frame["channel"]) == {"Paid Search"}


def test_japanese_excel_csv_utf16_tab_separated(tmp_path):
    # Google's "Excel CSV" download: UTF-16 with a BOM, tab-separated, numbers unquoted
    headers, total_label, decimal, group = LANGUAGES["ja"]
    types = {"Search": "検索", "Video": "P-MAX", "Display": "ディスプレイ"}
    lines = ["キャンペーン レポート", "2025年7月8日～2025年7月10日", "\t".join(headers)]
    for day, campaign, kind, cost, impressions, clicks in ROWS:
        cells = [day, campaign, types[kind], f"{cost:,.2f}", f"{impressions:,}", f"{clicks:,}"]
        lines.append("\t".join(cells))
    typed = pd.DataFrame(ROWS, columns=["day", "campaign", "type", "cost", "impressions", "clicks"])
    lines.append(
        "\t".join(
            [
                total_label,
                "--",
                "--",
                f"{typed['cost'].sum():,.2f}",
                f"{typed['impressions'].sum():,}",
                f"{typed['clicks'].sum():,}",
            ]
        )
    )
    (tmp_path / "export.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-16"))
    config = config_from_dict(
        {
            "report": {"period": "2025-07", "currency": "JPY"},
            "sources": [{"name": "ads", "type": "google_ads", "path": "export.csv", "table": "spend"}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    frame = tables["spend"]
    assert frame["cost"].sum() == pytest.approx(typed["cost"].sum())
    assert frame["impressions"].tolist() == typed["impressions"].astype(float).tolist()
    channels = dict(zip(frame["campaign"], frame["channel"], strict=False))
    assert channels == {"Brand": "Paid Search", "Launch video": "Performance Max", "Retargeting": "Display"}
    assert findings(inputs[0], "totals_reconciled") and not findings(inputs[0], "campaign_types_unmapped")


def test_an_unmapped_campaign_type_is_a_warning_naming_channel_map(tmp_path):
    content = google_ads_export("nl", types={"Search": "Zoeken", "Video": "Video"})
    frame, loaded = load(tmp_path, content)
    (warning,) = findings(loaded, "campaign_types_unmapped")
    zoeken = [row for row in ROWS if row[2] == "Search"]
    assert warning.severity == "warning" and warning.count == len(zoeken)
    assert "'Zoeken'" in warning.message and "channel_map" in warning.message and "'Campagnetype'" in warning.message
    assert set(frame.loc[frame["campaign"] == "Brand", "channel"]) == {"Zoeken"}  # kept, and said so
    # the option the warning names settles it
    frame, loaded = load(tmp_path, content, channel_map={"Campagnetype": {"Zoeken": "Paid Search"}})
    assert not findings(loaded, "campaign_types_unmapped")
    assert set(frame.loc[frame["campaign"] == "Brand", "channel"]) == {"Paid Search"}
    # a map on another column settles the rows it names, and only those
    frame, loaded = load(tmp_path, content, channel_map={"Campagne": {"Brand": "Brand Search"}})
    assert not findings(loaded, "campaign_types_unmapped")
    assert set(frame.loc[frame["campaign"] == "Brand", "channel"]) == {"Brand Search"}


def test_channel_map_naming_an_unknown_column(tmp_path):
    with pytest.raises(DataError, match=r"channel_map names column 'Campaign typ', .*did you mean 'Campaign type'"):
        load(tmp_path, google_ads_export("en"), channel_map={"Campaign typ": {"Video": "YouTube"}})


# ---------------------------------------------------------------- through the command line


def run(cli, tmp_path, source: dict, content: str):
    config = {
        "report": {"title": "T", "period": "2025-07", "currency": "USD", "locale": "en", "formats": ["json"]},
        "sources": [{"name": "ads", "path": "data/export.csv", "table": "spend", **source}],
    }
    path = cli.write_project(tmp_path / "proj", config, files={"data/export.csv": content})
    out = tmp_path / "out"
    return cli.run("run", path, "--out", out, cwd=tmp_path), out


def test_all_time_export_without_dates_is_rejected(cli, tmp_path):
    content = 'Campaign report\nAll time\nCampaign,Cost,Impr.,Clicks\nBrand,"1,200.00","12,000",240\n'
    result, out = run(cli, tmp_path, {"type": "google_ads"}, content)
    cli.assert_rejected(result, out, "export.csv", "All time", "Day segment", "values")


def test_contradictory_separators_are_rejected(cli, tmp_path):
    content = 'date,channel,cost\n2025-07-01,Email,"1,234.56"\n2025-07-02,Email,"1.234,56"\n'
    result, out = run(cli, tmp_path, {"type": "csv"}, content)
    line = cli.assert_rejected(result, out, "export.csv", "'cost'", "1.234,56")
    assert re.search(r"\brow 3\b", line), line


def test_channel_map_naming_an_unknown_column_is_rejected(cli, tmp_path):
    result, out = run(
        cli, tmp_path, {"type": "google_ads", "channel_map": {"Type": {"Video": "YouTube"}}}, google_ads_export("en")
    )
    cli.assert_rejected(result, out, "export.csv", "channel_map", "'Type'")


# ---------------------------------------------------------------- CRM stages

DEALS_HEADER = "Record ID,Deal Name,Pipeline,Deal Stage,Amount,Close Date,Create Date"


def load_deals(tmp_path: Path, rows: list[str], *, header: str = DEALS_HEADER, file: str = "deals.csv", **options):
    (tmp_path / file).write_text("\ufeff" + "\n".join([header, *rows]) + "\n", encoding="utf-8")
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "deals", "type": "hubspot", "path": file, "table": "leads", "options": options}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables["leads"], inputs[0]


PIPELINE = [
    "1,A,Partners,Closed: won,1000,2026-10-14,2026-09-01",
    "2,B,Partners,Closed: lost,500,2026-10-15,2026-09-02",
    "3,C,Partners,Closed: abandoned,200,2026-10-16,2026-09-03",
    "4,D,Partners,Negotiation,300,2026-10-17,2026-09-04",
]


def test_stage_labels_of_a_custom_pipeline(tmp_path):
    frame, loaded = load_deals(tmp_path, PIPELINE, lost_stage=["Closed: lost", "Closed: abandoned"])
    stages = pd.Series(["Closed: won", "Closed: lost", "Closed: abandoned", "Negotiation"])
    assert frame["won_at"].notna().tolist() == (stages == "Closed: won").tolist()  # "Closed: won" is closedwon
    assert frame["lost_at"].notna().tolist() == stages.isin(["Closed: lost", "Closed: abandoned"]).tolist()
    assert not findings(loaded, "stages_unmatched")


@pytest.mark.parametrize(
    "won, lost",
    [
        ("closedwon", "closedlost"),
        ("Closed/Won", "Closed/Lost"),
        ("Abgeschlossen und gewonnen", "Abgeschlossen und verloren"),
        ("Gesloten gewonnen", "Gesloten verloren"),
        ("Cierre ganado", "Cierre perdido"),
        ("Cerrado ganado", "Cerrado perdido"),
        ("Fermé gagné", "Fermé perdu"),
    ],
)
def test_default_won_and_lost_stages(tmp_path, won, lost):
    frame, _ = load_deals(
        tmp_path, [f"1,A,Sales,{won},1000,2026-10-14,2026-09-01", f"2,B,Sales,{lost},900,2026-10-15,2026-09-02"]
    )
    assert frame["won_at"].notna().tolist() == [True, False]
    assert frame["lost_at"].notna().tolist() == [False, True]


def test_a_portuguese_hubspot_deals_export(tmp_path):
    # pt-BR headers as found in public projects reading real exports (docs/sources.md)
    deals = [
        ("101", "Acme", "Fechado ganho", "1500", "2026-10-14", "2026-09-01"),
        ("102", "Beta", "Fechado perdido", "900.5", "2026-10-20", "2026-09-03"),
        ("103", "Gama", "Negociação", "", "", "2026-10-02"),
    ]
    header = "ID do registro.,Nome do negócio,Etapa do negócio,Valor,Data de fechamento,Data de criação,Pipeline"
    rows = [",".join([*deal, "Pipeline de Vendas"]) for deal in deals]
    frame, loaded = load_deals(tmp_path, rows, header=header, file="negocios.csv")
    typed = pd.DataFrame(deals, columns=["id", "name", "stage", "amount", "close", "created"])
    assert frame["lead_id"].tolist() == typed["id"].tolist()
    assert frame["amount"].sum() == pytest.approx(pd.to_numeric(typed["amount"]).sum())
    assert frame["won_at"].notna().tolist() == (typed["stage"] == "Fechado ganho").tolist()
    assert frame["lost_at"].notna().tolist() == (typed["stage"] == "Fechado perdido").tolist()
    assert frame["won_at"].dropna().dt.strftime("%Y-%m-%d").tolist() == ["2026-10-14"]
    assert frame["created_at"].dt.strftime("%Y-%m-%d").tolist() == typed["created"].tolist()
    assert not findings(loaded, "stages_unmatched")


def test_a_french_hubspot_deals_export(tmp_path):
    # fr headers as a script importing a real export reads them; the default pipeline's labels
    deals = [
        ("201", "Alpha", "Fermé gagné", "2 500,50", "14/10/2026", "01/09/2026"),
        ("202", "Bêta", "Fermé perdu", "900", "20/10/2026", "03/09/2026"),
        ("203", "Gamma", "Rendez-vous programmé", "", "", "02/10/2026"),
    ]
    header = (
        "ID de fiche d'informations;Nom de la transaction;Phase de la transaction;Montant;Date de fermeture;"
        "Date de création;Pipeline"
    )
    rows = [";".join([*deal, "Pipeline des ventes"]) for deal in deals]
    frame, loaded = load_deals(tmp_path, rows, header=header, file="tous-les-transactions.csv")
    typed = pd.DataFrame(deals, columns=["id", "name", "stage", "amount", "close", "created"])
    amounts = typed["amount"].str.replace(" ", "").str.replace(",", ".").replace("", None).astype(float)
    assert frame["lead_id"].tolist() == typed["id"].tolist()
    assert frame["amount"].sum() == pytest.approx(amounts.sum())
    assert frame["won_at"].notna().tolist() == (typed["stage"] == "Fermé gagné").tolist()
    assert frame["lost_at"].notna().tolist() == (typed["stage"] == "Fermé perdu").tolist()
    assert frame["won_at"].dropna().dt.strftime("%d/%m/%Y").tolist() == ["14/10/2026"]
    assert not findings(loaded, "stages_unmatched")


def test_stages_that_match_nothing_are_a_warning(tmp_path):
    rows = ["1,A,P,Gewonnen!,1000,2026-10-14,2026-09-01", "2,B,P,Weg,900,2026-10-15,2026-09-02"]
    frame, loaded = load_deals(tmp_path, rows)
    (warning,) = findings(loaded, "stages_unmatched")
    assert "'Gewonnen!'" in warning.message and "'Weg'" in warning.message and "won_stage" in warning.message
    assert frame["won_at"].isna().all() and frame["lost_at"].isna().all()


def test_validate_prints_a_summary_per_source(cli, tmp_path):
    config = {
        "report": {"title": "T", "period": "2025-07", "currency": "EUR", "locale": "en", "formats": ["json"]},
        "sources": [
            {"name": "ads_nl", "type": "google_ads", "path": "data/nl.csv", "table": "spend"},
            {"name": "ads_bad", "type": "google_ads", "path": "data/bad.csv", "table": "spend"},
        ],
    }
    files = {"data/nl.csv": google_ads_export("nl"), "data/bad.csv": google_ads_export("de", total_cost=10.0)}
    path = cli.write_project(tmp_path / "proj", config, files=files)
    result = cli.run("validate", path, cwd=tmp_path)
    assert result.code == 0, result.output
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith(("ok ", "check "))}
    assert f"{len(ROWS)} rows, 2025-07-08 to 2025-07-10, totals reconciled, 0 warnings" in lines["ads_nl"]
    assert lines["ads_bad"].startswith("check") and "totals DO NOT reconcile, 1 warning" in lines["ads_bad"]


def test_the_export_language_settles_numbers_nothing_else_settles(tmp_path):
    # Dutch headers, and no value in the file that shows which separator is decimal
    content = (
        'Dag,Campagne,Kosten,Vertoningen,Klikken\n2025-07-08,Merk,"1.053","2.400",12\n2025-07-09,Merk,980,"1.200",8\n'
    )
    frame, loaded = load(tmp_path, content)
    assert frame["cost"].tolist() == [1053.0, 980.0]
    assert frame["impressions"].tolist() == [2400.0, 1200.0]
    assert not findings(loaded, "ambiguous_numbers")


def test_an_unknown_locale_is_an_error(tmp_path):
    with pytest.raises(DataError, match="locale 'xx_YY' is not a language or locale code"):
        load(tmp_path, "date,channel,cost\n2025-07-08,Email,5\n", kind="csv", locale="xx_YY")


def test_a_grouped_value_after_the_sampled_rows_is_still_read_by_the_locale_rules(tmp_path):
    # the first 256 KB hold only whole numbers (pyarrow may type the column); row 30,002 does not
    rows = [f'2025-07-{1 + i % 28:02d},Email,C{i},"{i % 90},50",{i % 900}' for i in range(30_000)]
    rows.append('2025-07-29,Email,C-last,"1.487,67",1.053')
    content = "date,channel,campaign,cost,impressions\n" + "\n".join(rows) + "\n"
    frame, _ = load(tmp_path, content, kind="csv", options={"decimal": ","})
    expected_impressions = sum(i % 900 for i in range(30_000)) + 1053
    assert frame["impressions"].sum() == pytest.approx(expected_impressions)
    assert frame["cost"].sum() == pytest.approx(sum(i % 90 + 0.5 for i in range(30_000)) + 1487.67)


@pytest.mark.parametrize(
    "lines",
    [
        [  # de: headers and title line of an original German export; German dates and numbers
            "Bericht zur Performance",
            "Startdatum des Berichts: 01.10.2026",
            "Startdatum (in UTC),Name der Kampagne,Gesamtausgaben,Impressions,Klicks,Conversions",
            '15.10.2026,Brand DE,"1.234,56",10500,87,3',
            '01.10.2026,Launch,"88,36",2000,10,0',
        ],
        [  # pt (pt-BR): the headers found; Brazilian dates and numbers
            "Data de início (em UTC);Nome do grupo de campanhas;Nome da campanha;Total investido;Impressões;Cliques",
            "15/10/2026;Marca;Marca BR;1.234,56;10500;87",
            "01/10/2026;Lançamento;Lançamento BR;88,36;2000;10",
        ],
    ],
    ids=["de", "pt"],
)
def test_linkedin_ads_in_another_language_reads_its_own_day_and_month(tmp_path, lines):
    """The English export's dates are month first (10/1/2026); a German or Portuguese one is
    not assumed to be: day 15 settles the order, so 01.10 is the first of October."""
    frame, _ = load(tmp_path, "\n".join(lines) + "\n", kind="linkedin_ads", period="2026-10")
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-15", "2026-10-01"]
    assert frame["cost"].tolist() == pytest.approx([1234.56, 88.36])
    assert frame["impressions"].tolist() == [10500, 2000] and frame["clicks"].tolist() == [87, 10]
    assert set(frame["channel"]) == {"LinkedIn Ads"}
