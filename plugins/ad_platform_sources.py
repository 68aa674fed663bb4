"""Source types ``google_ads``, ``meta_ads`` and ``linkedin_ads``: ad platform exports → ``spend``.

Each reads the file as the platform's UI writes it (CSV or .xlsx) and knows its
columns, so a report needs no ``columns:`` map:

- google_ads: a report downloaded from the Google Ads UI ("CSV" or "Excel CSV",
  UTF-16 tab-separated). Title and date-range lines above the header are
  skipped; "Total: Account" / "Total: Search" rows are dropped (and counted);
  "1,234", "$1,153.81", "12.50%", "< 10%", "--" are read as numbers or missing.
  Columns: Day (or Date, Week), Campaign, Campaign type → media_type, Currency
  code → currency, Impr., Clicks, Cost, Conv., Search impr. share,
  Country/Territory → market. Channel: from the campaign type
  (GOOGLE_ADS_CHANNELS; a type it lacks keeps its name and is a warning naming
  the channel_map to set), "Paid Search" without one.
- meta_ads: an Ads Manager export. Reporting starts (or Day) → date; Reporting
  ends → end_date (rows covering several days are spread over them by the
  core); Campaign name; Ad set name → audience; Impressions; Link clicks (else
  Clicks (all)); Results → platform_conversions; "Amount spent (USD)" → cost,
  the currency taken from the header. Channel: "Paid Social".

Headers are recognised in the UI languages of GOOGLE_ADS_LANGUAGES and
META_ADS_LANGUAGES (each with where it was found; docs/sources.md).
- linkedin_ads: a Campaign Manager performance report (UTF-16, tab-separated,
  report lines above the header, US dates "10/1/2026"). Start Date (in UTC) →
  date, Campaign Name, Campaign Type → media_type, Currency, Total Spent → cost,
  Impressions, Clicks, Conversions. Channel: "LinkedIn Ads".

``columns:`` and ``values:`` in the report still apply on top (e.g.
``values: {channel: Paid Social}``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from roistory.api import (
    TITLE_ATTR,
    DataError,
    ExportFormat,
    Finding,
    Joined,
    Nn_,
    SourceType,
    add_findings,
    date_range_in,
    hookimpl,
    read_export,
    set_default,
)

if TYPE_CHECKING:
    from roistory.api import Config, SourceConfig

# Google Ads UI downloads: headers in the account's UI language. Where each was found
# (confidence as in docs/sources.md: doc = Google's help in that language, seen = several
# public projects reading real downloads agree, one = one project's parser or fixture,
# ui = the UI's word in Google's help prose, not yet seen as a header):
GOOGLE_ADS_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {  # doc (help 2454071) + seen
        "date": ("Day", "Date", "Week", "Week (Mon - Sun)", "Week (Sun - Sat)", "Month"),
        "campaign": ("Campaign", "Campaign name"),
        "media_type": ("Campaign type", "Advertising channel type"),
        "currency": ("Currency code", "Currency"),
        "impressions": ("Impr.", "Impressions"),
        "clicks": ("Clicks",),
        "cost": ("Cost", "Cost (*)", "Spend"),
        "platform_conversions": ("Conv.", "Conversions"),
        "impression_share": ("Search impr. share", "Impr. share", "Search impression share"),
        "market": ("Country/Territory (User location)", "Country/Territory", "Country"),
    },
    "es": {  # one (fixture: Día, Campaña, Coste, Impr., Clics); es-419 Costo: doc
        "date": ("Día", "Semana", "Mes"),
        "campaign": ("Campaña",),
        "media_type": ("Tipo de campaña",),
        "currency": ("Código de moneda",),
        "impressions": ("Impr.", "Impresiones"),
        "clicks": ("Clics",),
        "cost": ("Coste",),
        "platform_conversions": ("Conversiones",),
        "impression_share": ("Cuota de impr. de búsqueda",),  # seen (several projects reading es downloads)
    },
    "es_419": {"cost": ("Costo",)},  # doc (help 2454071 es-419)
    "id": {  # ui (help 2454071 id, an Indonesian agency's walkthrough: Klik, Tayangan/Tygn., Biaya)
        "date": ("Hari", "Tanggal"),
        "campaign": ("Kampanye",),
        "media_type": ("Jenis kampanye",),
        "impressions": ("Tayangan", "Tygn."),
        "clicks": ("Klik",),
        "cost": ("Biaya",),
        "platform_conversions": ("Konversi",),
    },
    # one (a script reading real zh-TW downloads: 日期, 廣告活動, 廣告活動類型, 貨幣代碼, 曝光, 點擊, 費用)
    "zh_Hant": {
        "date": ("日期", "日"),
        "campaign": ("廣告活動",),
        "media_type": ("廣告活動類型",),
        "currency": ("貨幣代碼",),
        "impressions": ("曝光", "曝光次數"),
        "clicks": ("點擊", "點擊次數"),
        "cost": ("費用",),
        "platform_conversions": ("轉換",),
    },
    "zh_Hans": {  # seen (scripts reading the zh-CN UI and downloads: 广告系列, 费用, 展示次数, 点击次数, 转化价值)
        "date": ("日期", "天"),
        "campaign": ("广告系列",),
        "media_type": ("广告系列类型",),
        "currency": ("货币代码",),
        "impressions": ("展示次数",),
        "clicks": ("点击次数",),
        "cost": ("费用",),
        "platform_conversions": ("转化次数",),
    },
    "nl": {  # seen (Kosten, Conversies in a real account's notes); one (Klikken, Verton.); ui (Dag, Campagne)
        "date": ("Dag", "Week", "Maand"),
        "campaign": ("Campagne",),
        "media_type": ("Campagnetype",),
        "currency": ("Valutacode",),
        "impressions": ("Verton.", "Vertoningen"),
        "clicks": ("Klikken",),
        "cost": ("Kosten",),
        "platform_conversions": ("Conversies",),
    },
    "de": {  # seen (Tag, Kampagne, Kosten, Klicks, Impr., Conversions); one (Währungscode)
        "date": ("Tag", "Woche", "Monat"),
        "campaign": ("Kampagne",),
        "media_type": ("Kampagnentyp",),
        "currency": ("Währungscode",),
        "impressions": ("Impr.", "Impressionen"),
        "clicks": ("Klicks",),
        "cost": ("Kosten",),
        "platform_conversions": ("Conversions",),
        "impression_share": ("Anteil an möglichen Impressionen im Suchnetzwerk",),
    },
    "fr": {  # one (fixture: Jour, Campagne, Code de la devise, Coût, Impr., Clics)
        "date": ("Jour", "Semaine", "Mois"),
        "campaign": ("Campagne",),
        "media_type": ("Type de campagne",),
        "currency": ("Code de la devise",),
        "impressions": ("Impr.",),
        "clicks": ("Clics",),
        "cost": ("Coût",),
        "platform_conversions": ("Conversions",),
    },
    "pt": {  # doc (help 11305867 pt-BR and pt: Cliques, Impr., Impressões, Custo); one (Dia)
        "date": ("Dia", "Semana", "Mês"),
        "campaign": ("Campanha",),
        "media_type": ("Tipo de campanha",),
        "currency": ("Código da moeda",),
        "impressions": ("Impr.", "Impressões"),
        "clicks": ("Cliques",),
        "cost": ("Custo",),
        "platform_conversions": ("Conversões",),
    },
    "it": {  # one (a generator of Google-shaped Italian files: Campagna, Costo, Impressioni, Clic, Conversioni)
        "date": ("Giorno", "Settimana", "Mese"),
        "campaign": ("Campagna",),
        "media_type": ("Tipo di campagna",),
        "impressions": ("Impr.", "Impressioni"),
        "clicks": ("Clic",),
        "cost": ("Costo",),
        "platform_conversions": ("Conversioni",),
    },
    "ja": {  # seen (two projects reading downloads: 日, キャンペーン, 表示回数, クリック数, 費用, コンバージョン)
        "date": ("日", "週", "月"),
        "campaign": ("キャンペーン",),
        "media_type": ("キャンペーン タイプ", "キャンペーンタイプ"),
        "currency": ("通貨コード",),
        "impressions": ("表示回数",),
        "clicks": ("クリック数",),
        "cost": ("費用",),
        "platform_conversions": ("コンバージョン",),
    },
}
GOOGLE_ADS = ExportFormat.in_languages("Google Ads", GOOGLE_ADS_LANGUAGES, required=("cost",))

# Campaign type -> channel (a source's channel_map overrides it). The type names are Google's
# (en: seen for Search and Display; product names for the rest); zh values: one each; es:
# ui (help 10724896 es and 14951594 es name the type "Máximo rendimiento", the Search
# campaigns "de Búsqueda"; one: a project reading monthly es-419 downloads, whose rows and
# "Total: Búsqueda" / "Total: Compras" subtotals write Shopping as "Compras" and Video as
# "Video"); pt (pt-BR): one (a quoted real download's "Pesquisa" row; a fixture's "Geração de
# demanda"), ui ("Vídeo" in help 15110871 pt); fr: ui ("Vidéo" in help 15110871 fr; a French
# parser test keeps "Performance Max"); id: ui (Google Ads API guides hl=id: "Performa
# Maksimal"); ja: one (a project quoting Google's Japanese GA4 dimension reference: 検索,
# ディスプレイ, ショッピング, 動画, ファインド, アプリ, スマート, ホテル, ローカル, P-MAX; 検索 also in a
# script driving the ja UI). Other languages' values were not found: a type this map lacks is
# a finding naming the channel_map to set.
GOOGLE_ADS_CHANNELS = {
    "Search": "Paid Search",
    "搜索": "Paid Search",
    "搜尋": "Paid Search",
    "Búsqueda": "Paid Search",
    "Pesquisa": "Paid Search",
    "検索": "Paid Search",
    "Display": "Display",
    "展示": "Display",
    "多媒體": "Display",
    "ディスプレイ": "Display",
    "Performance Max": "Performance Max",
    "效果最大化": "Performance Max",
    "最高成效": "Performance Max",
    "Máximo rendimiento": "Performance Max",
    "Performa Maksimal": "Performance Max",
    "P-MAX": "Performance Max",
    "Video": "Online Video",
    "YouTube": "Online Video",
    "视频": "Online Video",
    "影片": "Online Video",
    "動画": "Online Video",
    "Vídeo": "Online Video",
    "Vidéo": "Online Video",
    "Shopping": "Shopping",
    "购物": "Shopping",
    "購物": "Shopping",
    "ショッピング": "Shopping",
    "Compras": "Shopping",
    "Demand Gen": "Demand Gen",
    "Discovery": "Demand Gen",
    "ファインド": "Demand Gen",
    "Geração de demanda": "Demand Gen",
    "App": "App",
    "アプリ": "App",
    "Smart": "Smart",
    "スマート": "Smart",
    "Hotel": "Hotel",
    "ホテル": "Hotel",
    "Local": "Local",
    "ローカル": "Local",
}

# Meta Ads Manager exports: "Reporting starts"/"Reporting ends" frame each row's days; the
# spend header carries the account currency ("Amount spent (EUR)"), the only currency column
# found outside en/es. Where each language was found (confidence as for Google Ads above):
META_ADS_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {  # seen
        "date": ("Day", "Reporting starts", "Date"),
        "end_date": ("Reporting ends",),
        "campaign": ("Campaign name", "Campaign"),
        "audience": ("Ad set name", "Ad Set Name"),
        "impressions": ("Impressions",),
        "clicks": ("Link clicks", "Clicks (all)", "Clicks"),
        "platform_conversions": ("Results",),
        "cost": ("Amount spent (*)", "Amount spent", "Spend"),
        "currency": ("Currency",),
        "market": ("Country",),
    },
    "pt": {  # seen (pt-BR)
        "date": ("Dia", "Início dos relatórios"),
        "end_date": ("Encerramento dos relatórios",),
        "campaign": ("Nome da campanha",),
        "audience": ("Nome do conjunto de anúncios",),
        "impressions": ("Impressões",),
        "clicks": ("Cliques no link", "Cliques (todos)"),
        "platform_conversions": ("Resultados",),
        "cost": ("Valor usado (*)",),
    },
    "es": {  # seen; "Fin del informe": seen (three projects reading real es exports, one with its file name)
        "date": ("Día", "Inicio del informe"),
        "end_date": ("Fin del informe",),
        "campaign": ("Nombre de la campaña",),
        "audience": ("Nombre del conjunto de anuncios",),
        "impressions": ("Impresiones",),
        "clicks": ("Clics en el enlace", "Clics (todos)"),
        "platform_conversions": ("Resultados",),
        "cost": ("Importe gastado (*)",),
        "currency": ("Divisa",),
    },
    "fr": {  # seen/one; "Fin des rapports": seen (two projects reading real fr exports)
        "date": ("Jour", "Début des rapports"),
        "end_date": ("Fin des rapports",),
        "campaign": ("Nom de la campagne",),
        "audience": ("Nom de l'ensemble de publicités",),
        "impressions": ("Impressions",),
        "clicks": ("Clics sur un lien", "Clics sur le lien", "Clics (tous)"),
        "platform_conversions": ("Résultats",),
        "cost": ("Montant dépensé (*)",),
    },
    "de": {  # seen (a real German export) and one; Berichtsstart: one (a test of a real German
        # export) and a parser of exports in 9 locales; Berichtsende: that parser (lower-cased)
        "date": ("Tag", "Berichtsstart"),
        "end_date": ("Berichtsende",),
        "campaign": ("Kampagnenname",),
        "audience": ("Name der Anzeigengruppe",),
        "impressions": ("Impressionen",),
        "clicks": ("Link-Klicks", "Klicks (alle)"),
        "platform_conversions": ("Ergebnisse",),
        "cost": ("Ausgegebener Betrag (*)",),
    },
    "it": {  # one; Impression: seen (three projects); Inizio/Fine dei report: one (a writer of Meta-shaped files)
        "date": ("Giorno", "Inizio dei report"),
        "end_date": ("Fine dei report",),
        "campaign": ("Nome della campagna",),
        "audience": ("Nome del gruppo di inserzioni",),
        "impressions": ("Impression", "Impressioni"),
        "clicks": ("Clic sul link", "Clic (tutti)"),
        "platform_conversions": ("Risultati",),
        "cost": ("Importo speso (*)",),
    },
    "nl": {  # seen (three projects reading real nl exports: Start/Einde rapportage, Besteed bedrag (EUR), Weergaven)
        "date": ("Start rapportage",),
        "end_date": ("Einde rapportage",),
        "campaign": ("Campagnenaam",),
        "audience": ("Naam advertentieset",),
        "impressions": ("Weergaven",),
        "clicks": ("Klikken op links", "Klikken (alle)"),
        "platform_conversions": ("Resultaten",),
        "cost": ("Besteed bedrag (*)",),
    },
    "id": {  # seen (several projects reading real id exports: Awal/Akhir pelaporan, Jumlah yang dibelanjakan (IDR))
        "date": ("Awal pelaporan",),
        "end_date": ("Akhir pelaporan",),
        "campaign": ("Nama kampanye",),
        "audience": ("Nama set iklan",),
        "impressions": ("Impresi",),
        "clicks": ("Klik tautan", "Klik (semua)"),
        "platform_conversions": ("Hasil",),
        "cost": ("Jumlah yang dibelanjakan (*)",),
    },
    "zh_Hant": {  # seen (several projects reading zh-TW exports: 分析報告開始/結束, 花費金額 (TWD)); 天數: one
        "date": ("天數", "分析報告開始"),
        "end_date": ("分析報告結束",),
        "campaign": ("行銷活動名稱",),
        "audience": ("廣告組合名稱",),
        "impressions": ("曝光次數",),
        "clicks": ("連結點擊次數", "點擊次數（全部）"),
        "platform_conversions": ("成果",),
        "cost": ("花費金額 (*)",),
    },
    "zh_Hans": {  # one (a project reading real zh-CN exports); 报告结束日期: seen (a test CSV of an
        # export's columns, a sheet built to match a sample export)
        "date": ("报告开始日期",),
        "end_date": ("报告结束日期",),
        "campaign": ("广告系列名称",),
        "impressions": ("展示次数",),
        "clicks": ("链接点击量", "点击量（全部）"),
        "cost": ("已花费金额 (*)",),
    },
    "ja": {  # seen (several projects reading ja exports: レポート開始日/終了日, 消化金額 (JPY), 日)
        "date": ("日", "レポート開始日"),
        "end_date": ("レポート終了日",),
        "campaign": ("キャンペーン名",),
        "audience": ("広告セット名",),
        "impressions": ("インプレッション",),
        "clicks": ("リンクのクリック", "クリック(すべて)"),
        "platform_conversions": ("結果",),
        "cost": ("消化金額 (*)",),
    },
}
META_ADS = ExportFormat.in_languages("Meta Ads Manager", META_ADS_LANGUAGES, required=("date", "cost"))
# the headers of a daily breakdown: a row is that day, whatever "Reporting ends" says
_META_DAY = {"Day", "Dia", "Día", "Jour", "Tag", "Giorno", "Date", "日", "天數"}

# LinkedIn Campaign Manager's campaign performance report. en: seen (fixtures of real exports,
# a program reading real .xlsx downloads); de: one (a test of an original German export, its
# title lines "Bericht zur Performance"); pt (pt-BR): one each (a dashboard reading a real
# workbook: Data de início, Total investido; a program reading monthly UTF-16 downloads: Nome da
# campanha, Impressões, Cliques).
LINKEDIN_ADS_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "date": ("Start Date (in UTC)", "Start Date", "Date"),
        "campaign": ("Campaign Name", "Campaign"),
        "media_type": ("Campaign Type",),
        "currency": ("Currency",),
        "cost": ("Total Spent", "Amount Spent", "Total Spent (*)"),
        "impressions": ("Impressions",),
        "clicks": ("Clicks",),
        "platform_conversions": ("Conversions",),
    },
    "de": {
        "date": ("Startdatum (in UTC)",),
        "campaign": ("Name der Kampagne",),
        "cost": ("Gesamtausgaben",),
        "impressions": ("Impressions",),
        "clicks": ("Klicks",),
        "platform_conversions": ("Conversions",),
    },
    "pt": {
        "date": ("Data de início (em UTC)",),
        "campaign": ("Nome da campanha",),
        "cost": ("Total investido",),
        "impressions": ("Impressões",),
        "clicks": ("Cliques",),
    },
}
LINKEDIN_ADS = ExportFormat.in_languages(
    "LinkedIn Campaign Manager",
    LINKEDIN_ADS_LANGUAGES,
    required=("date", "cost"),
    defaults={"date_order": "mdy"},  # the English UI's 10/1/2026
    # another language's dates were not seen: their own values settle day and month
    language_defaults={"de": {"date_order": None}, "pt": {"date_order": None}},
)


def read_google_ads(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, mapping = read_export(source, config, GOOGLE_ADS)
    _currency_from_header(frame, source, mapping)
    if not _has(frame, source, "date"):
        _date_from_title(frame, source, config)
    if "media_type" in frame.columns and not _has(frame, source, "channel"):
        frame["channel"] = _channels(frame["media_type"])
        _unmapped_types_finding(frame, source, mapping)
    set_default(frame, source, "channel", "Paid Search")
    set_default(frame, source, "platform", "Google Ads")
    return frame


def read_meta_ads(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, mapping = read_export(source, config, META_ADS)
    _currency_from_header(frame, source, mapping)
    date_header = next((h for h, t in mapping.items() if t == "date"), None)
    if date_header in _META_DAY and "end_date" in frame.columns:
        # a daily breakdown: "Reporting ends" is the report's last day, not the row's
        frame = frame.rename(columns={"end_date": next(h for h, t in mapping.items() if t == "end_date")})
    set_default(frame, source, "channel", "Paid Social")
    set_default(frame, source, "platform", "Meta Ads")
    return frame


def read_linkedin_ads(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, _ = read_export(source, config, LINKEDIN_ADS)
    set_default(frame, source, "channel", "LinkedIn Ads")
    set_default(frame, source, "platform", "LinkedIn Ads")
    return frame


def _has(frame: pd.DataFrame, source: SourceConfig, column: str) -> bool:
    return column in frame.columns or column in source.values or column in source.columns.values()


def _currency_from_header(frame: pd.DataFrame, source: SourceConfig, mapping: dict[str, str]) -> None:
    """The account currency a cost header carries ("Amount spent (EUR)", "Cost (USD)")."""
    cost_header = next((h for h, t in mapping.items() if t == "cost"), "")
    code = re.search(r"\(([A-Z]{3})\)\s*$", cost_header)
    if code:
        set_default(frame, source, "currency", code.group(1))


def _date_from_title(frame: pd.DataFrame, source: SourceConfig, config: Config) -> None:
    """A report without a Day column covers the date range of its title lines ("July 8, 2025 -
    July 31, 2025"): every row spans it (the core spreads it over the days)."""
    title = frame.attrs.get(TITLE_ATTR) or []
    span = date_range_in(title)
    if span is None:
        said = next(
            (f" (its title says '{line}')" for line in title if line and not line.lower().endswith("report")), ""
        )
        raise DataError(
            f"has no date{said}: download the report with the Day segment (Segment → Time → Day) or for a "
            "fixed date range, or set values: {date: YYYY-MM-DD, end_date: YYYY-MM-DD} for the days it covers",
            file=str(config.resolve(source.path or "")),
            column="Day",
        )
    frame["date"] = span[0].isoformat()
    if not _has(frame, source, "end_date"):
        frame["end_date"] = span[1].isoformat()


def _channels(campaign_types: pd.Series) -> pd.Series:
    """The channel of each row from its campaign type (GOOGLE_ADS_CHANNELS; an unknown type is
    its own channel, and a finding says so; a missing one Paid Search)."""
    lookup = {name.casefold(): channel for name, channel in GOOGLE_ADS_CHANNELS.items()}
    types = campaign_types.astype("str").str.strip()
    return types.map(
        lambda v: lookup.get(v.casefold(), v) if isinstance(v, str) and v and v != "--" else "Paid Search"
    ).astype("str")


def _unmapped_types_finding(frame: pd.DataFrame, source: SourceConfig, mapping: dict[str, str]) -> None:
    """A warning naming the campaign types no default channel covers on rows no channel_map
    entry settles: each became a channel of its own name, which the report cannot know is right."""
    known = {name.casefold() for name in GOOGLE_ADS_CHANNELS}
    types = frame["media_type"].astype("str").str.strip()
    unknown = types.notna() & (types != "") & (types != "--") & ~types.str.casefold().isin(known)
    for column, channels in source.channel_map.items():  # the rows a channel_map entry settles
        key = str(column).strip().casefold()
        name = next((mapping.get(h, h) for h in [*mapping, *frame.columns] if str(h).casefold() == key), None)
        if name in frame.columns:
            values = frame[name].astype("str").str.strip().str.casefold()
            unknown &= ~values.isin({str(v).strip().casefold() for v in channels})
    if not unknown.any():
        return
    unmapped = sorted(types[unknown].unique())
    rows = int(unknown.sum())
    header = next(h for h, t in mapping.items() if t == "media_type")
    shown = Joined([f"'{v}'" for v in unmapped[:6]] + (["…"] if len(unmapped) > 6 else []))
    add_findings(
        frame,
        Finding.of(
            "warning",
            "campaign_types_unmapped",
            rows,
            Nn_(
                "source '{source}': campaign types with no known channel ({types}) became channels of their own name "
                "on {count} row; set channel_map: {{'{header}': {{'{example}': <channel>, …}}}}",
                "source '{source}': campaign types with no known channel ({types}) became channels of their own name "
                "on {count} rows; set channel_map: {{'{header}': {{'{example}': <channel>, …}}}}",
            ),
            source=source.name,
            types=shown,
            header=header,
            example=unmapped[0],
        ),
    )


@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "google_ads",
            read_google_ads,
            "Google Ads UI report export (CSV, Excel CSV or .xlsx) as spend.",
            needs_path=True,
        )
    )
    register(SourceType("meta_ads", read_meta_ads, "Meta Ads Manager export (CSV or .xlsx) as spend.", needs_path=True))
    register(
        SourceType(
            "linkedin_ads",
            read_linkedin_ads,
            "LinkedIn Campaign Manager performance report (UTF-16 TSV, CSV or .xlsx) as spend.",
            needs_path=True,
        )
    )
