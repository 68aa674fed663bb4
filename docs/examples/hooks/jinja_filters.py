"""Example for prepare_jinja2_environment: a filter and a global for templates."""

from roistory.api import hookimpl


def initials(text):
    return "".join(word[0] for word in str(text).split()).upper()


@hookimpl
def prepare_jinja2_environment(env, report):
    env.filters["initials"] = initials  # {{ report.client | initials }}
    env.globals["fiscal_year"] = report.period.end.year + (report.period.end.month >= 7)
