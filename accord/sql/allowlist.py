"""Which functions and tables user SQL may name: an allow-list per engine dialect.

Measures, clauses and `sql:` sources are written by many people and merged through pull requests; their
results are shown to everyone. They must read only the project's data, by source name. So every function a
fragment calls must be on its dialect's list below, and every table it reads must be a plain name (a
source, a CTE or a table of the engine), never a quoted path, a URL or a system catalog.

Why an allow-list and not a deny-list: engines add functions every release (DuckDB 2.0 brought new
readers, Spark and PostgreSQL have extension functions that reach files, programs and the network). A
deny-list is silently wrong the day a new reader ships; an allow-list refuses it until someone reads its
documentation and adds it here. The lists hold pure functions of a row's values (and the date): arithmetic,
text, dates, lists, structs, JSON values, hashing, conditionals, aggregates and window functions. They
leave out whatever reads files (`read_*`, `sniff_csv`, `glob`, `*_scan`, `pg_read_file`, `lo_import`), the
environment or settings (`getenv`, `current_setting`, `duckdb_*`, `version`), runs SQL given as text
(`query`, `query_table`, `json_execute_serialized_sql`), reaches the network or other programs (`dblink`,
`reflect`, `java_method`), sleeps, or changes session state (`setseed`, `nextval`).

The function a fragment calls is judged by the name the engine receives: the name written for a function
sqlglot does not know, else the name sqlglot generates for the target dialect (`string_agg` may reach
DuckDB as `listagg`; `if(a, b, c)` as `CASE`, which calls nothing).

API, for every engine (the PostgreSQL and Spark engines call it before SQL is sent):

    check_reads(tree, dialect)       # raises FragmentError(message, col, line) at the first refusal
    check_functions(tree, dialect)   # functions only
    check_tables(tree)               # table references only
    check_table_name(name)           # a `table:` source: a plain (schema.)table name

`tree` is a sqlglot AST parsed from the DuckDB SQL users write; `dialect` is one of DIALECTS.
"""
from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import ErrorLevel

from accord.sql.errors import FragmentError

DIALECTS = ("duckdb", "postgres", "spark")

# Functions that are syntax rather than a catalog entry, in every dialect.
_SYNTAX = """cast try_cast safe_cast extract coalesce nullif ifnull nvl case exists any all some in not
interval position substring trim overlay current_date current_time current_timestamp localtime localtimestamp
grouping grouping_id unnest if iif filter struct row array map"""

_AGGREGATES = """any_value approx_count_distinct approx_quantile approx_top_k arbitrary arg_max arg_max_null
arg_max_nulls_last arg_min arg_min_null arg_min_nulls_last argmax argmin array_agg avg bit_and bit_or bit_xor
bitstring_agg bool_and bool_or corr count count_if countif covar_pop covar_samp entropy favg first fsum
group_concat histogram histogram_exact kahan_sum kurtosis kurtosis_pop last list listagg mad max max_by mean
median min min_by mode product quantile quantile_cont quantile_disc regr_avgx regr_avgy regr_count
regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy reservoir_quantile sem skewness stddev
stddev_pop stddev_samp string_agg sum sumkahan var_pop var_samp variance geomean geometric_mean wavg
weighted_avg json_group_array json_group_object every percentile_cont percentile_disc"""

_WINDOW = """cume_dist dense_rank fill first_value lag last_value lead nth_value ntile percent_rank rank
rank_dense row_number"""

_DUCKDB = """abs acos acosh add age ago array_aggr array_aggregate array_append array_apply array_cat
array_concat array_contains array_cosine_distance array_cosine_similarity array_cross_product array_distance
array_distinct array_dot_product array_extract array_filter array_grade_up array_has array_has_all
array_has_any array_indexof array_inner_product array_intersect array_length array_negative_dot_product
array_negative_inner_product array_pop_back array_pop_front array_position array_prepend array_push_back
array_push_front array_reduce array_resize array_reverse array_reverse_sort array_select array_slice
array_sort array_to_json array_to_string array_transform array_unique array_value array_where array_zip
ascii asin asinh atan atan2 atanh bar base64 bin bit_count bit_length bit_position bitstring cardinality
cbrt ceil ceiling century char_length character_length chr concat concat_ws contains cos cosh cot
current_localtime current_localtimestamp damerau_levenshtein date_add date_diff date_part date_sub
date_trunc datediff datepart datesub datetrunc day dayname dayofmonth dayofweek dayofyear days_in_month
decade decode degrees divide editdist3 element_at encode ends_with epoch epoch_ms epoch_ns epoch_us era
equi_width_bins even exp factorial fdiv flatten floor fmod format format_bytes formatreadabledecimalsize
formatreadablesize from_base64 from_binary from_hex from_json from_json_strict gamma gcd generate_series
get_bit get_current_time get_current_timestamp greatest greatest_common_divisor hamming hash hex hour
ilike_escape instr isfinite isinf isnan isodow isoyear jaccard jaro_similarity jaro_winkler_similarity json
json_array json_array_length json_contains json_exists json_extract json_extract_path json_extract_path_text
json_extract_string json_keys json_merge_patch json_object json_quote json_structure json_transform
json_transform_strict json_type json_valid json_value julian last_day lcase lcm least
least_common_multiple left len length length_grapheme levenshtein lgamma like_escape list_aggr
list_aggregate list_any_value list_append list_apply list_approx_count_distinct list_avg list_bit_and
list_bit_or list_bit_xor list_bool_and list_bool_or list_cat list_concat list_contains list_cosine_distance
list_cosine_similarity list_count list_distance list_distinct list_dot_product list_element list_entropy
list_extract list_filter list_first list_grade_up list_has list_has_all list_has_any list_histogram
list_indexof list_inner_product list_intersect list_kurtosis list_kurtosis_pop list_last list_mad list_max
list_median list_min list_mode list_negative_dot_product list_negative_inner_product list_pack
list_position list_prepend list_product list_reduce list_resize list_reverse list_reverse_sort list_select
list_sem list_skewness list_slice list_sort list_stddev_pop list_stddev_samp list_string_agg list_sum
list_transform list_unique list_value list_var_pop list_var_samp list_where list_zip ln log log10 log2 lower
lpad ltrim make_date make_time make_timestamp make_timestamp_ms make_timestamp_ns make_timestamptz map_concat
map_contains map_contains_entry map_contains_value map_entries map_extract map_extract_value
map_from_entries map_keys map_values md5 md5_number md5_number_lower md5_number_upper microsecond millennium
millisecond minute mismatches mod month monthname multiply nanosecond nextafter nfc_normalize
normalized_interval not_ilike_escape not_like_escape now octet_length ord pi pow power prefix printf quarter
radians range reduce regexp_escape regexp_extract regexp_extract_all regexp_full_match regexp_matches
regexp_replace regexp_split_to_array regexp_split_to_table repeat replace reverse right right_grapheme round
round_even roundbankers sha1 sha256 sign signbit sin sinh split split_part sqrt starts_with strftime
string_split string_split_regex string_to_array strip_accents strlen strpos strptime str_split
str_split_regex struct_concat struct_contains struct_extract struct_extract_at struct_has struct_indexof
struct_insert struct_keys struct_pack struct_position struct_update struct_values substr
substring_grapheme subtract suffix tan tanh time_bucket timezone timezone_hour timezone_minute to_base
to_base64 to_binary to_centuries to_days to_decades to_hex to_hours to_json to_microseconds to_millennia
to_milliseconds to_minutes to_months to_quarters to_seconds to_timestamp to_weeks to_years today
transaction_timestamp translate trunc try_strptime typeof ucase unbin unhex unicode union_extract union_tag
union_value upper url_decode url_encode week weekday weekofyear xor year yearweek json_each json_tree"""

_POSTGRES = """abs acos asin atan atan2 cbrt ceil ceiling cos cot degrees div exp floor ln log log10 mod pi
power radians round scale sign sin sqrt tan trunc width_bucket gcd lcm factorial greatest least
ascii bit_length btrim char_length character_length chr concat concat_ws format initcap left length lower
lpad ltrim md5 octet_length regexp_count regexp_instr regexp_like regexp_match regexp_matches regexp_replace
regexp_split_to_array regexp_substr repeat replace reverse right rpad rtrim split_part starts_with strpos
substr to_hex translate upper encode decode sha224 sha256 sha384 sha512 string_to_array array_to_string
age clock_timestamp date_bin date_part date_trunc extract isfinite justify_days justify_hours
justify_interval make_date make_interval make_time make_timestamp make_timestamptz now statement_timestamp
to_char to_date to_number to_timestamp transaction_timestamp timezone
array_append array_cat array_dims array_length array_lower array_position array_positions array_prepend
array_remove array_replace array_upper cardinality
json_array_length json_build_array json_build_object json_extract_path json_extract_path_text json_object
json_typeof jsonb_array_length jsonb_build_array jsonb_build_object jsonb_extract_path
jsonb_extract_path_text jsonb_object jsonb_typeof to_json to_jsonb json_agg jsonb_agg json_object_agg
jsonb_object_agg generate_series
bool_and bool_or count sum avg min max stddev stddev_pop stddev_samp variance var_pop var_samp corr
covar_pop covar_samp regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy
regr_syy string_agg array_agg bit_and bit_or mode percentile_cont percentile_disc every"""

_SPARK = """abs acos acosh asin asinh atan atan2 atanh bin cbrt ceil ceiling cos cosh cot degrees e exp
expm1 factorial floor greatest hex least ln log log10 log1p log2 mod negative pi pmod positive pow power
radians rint round sign signum sin sinh sqrt tan tanh try_add try_divide try_multiply
try_subtract unhex width_bucket div
ascii base64 bit_length btrim char char_length character_length chr concat concat_ws contains decode encode
endswith format_number format_string initcap instr lcase left len length levenshtein locate lower lpad
ltrim md5 octet_length overlay regexp regexp_count regexp_extract regexp_extract_all regexp_instr
regexp_like regexp_replace regexp_substr repeat replace reverse right rlike rpad rtrim sha sha1 sha2
soundex split split_part startswith substr substring substring_index translate trim ucase unbase64 upper
add_months current_timezone date_add date_diff date_format date_from_unix_date date_part date_sub
date_trunc dateadd datediff datepart day dayofmonth dayofweek dayofyear from_unixtime from_utc_timestamp
hour last_day make_date make_dt_interval make_interval make_timestamp make_ym_interval minute month
months_between next_day now quarter second timestamp_micros timestamp_millis timestamp_seconds to_date
to_timestamp to_unix_timestamp to_utc_timestamp trunc unix_date unix_micros unix_millis unix_seconds
unix_timestamp weekday weekofyear year try_to_timestamp
array array_contains array_distinct array_except array_intersect array_join array_max array_min
array_position array_remove array_repeat array_size array_sort array_union arrays_overlap arrays_zip
element_at explode flatten get map_keys map_values named_struct size slice sort_array struct
get_json_object json_array_length json_object_keys to_json from_json
nvl nvl2 nanvl isnull isnotnull isnan if ifnull
any approx_count_distinct approx_percentile avg bool_and bool_or collect_list collect_set corr count
count_if covar_pop covar_samp first first_value kurtosis last last_value max max_by mean median min
min_by mode percentile percentile_approx skewness some std stddev stddev_pop stddev_samp sum var_pop
var_samp variance every array_agg listagg string_agg"""


def _names(*blocks: str) -> frozenset[str]:
    return frozenset(w for block in blocks for w in block.split())


ALLOWED: dict[str, frozenset[str]] = {
    "duckdb": _names(_SYNTAX, _AGGREGATES, _WINDOW, _DUCKDB),
    "postgres": _names(_SYNTAX, _WINDOW, _POSTGRES),
    "spark": _names(_SYNTAX, _WINDOW, _SPARK),
}

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Catalogs of the engines themselves: settings, functions, secrets, other databases.
_SYSTEM_SCHEMAS = frozenset({"system", "temp", "information_schema", "pg_catalog", "sys", "mysql",
                             "performance_schema", "global_temp"})
_SYSTEM_PREFIXES = ("duckdb_", "pg_", "sqlite_", "information_schema")
_LEADING_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_$.]*)\s*\(")


def check_reads(tree: exp.Expression, dialect: str = "duckdb") -> None:
    """Refuse, at the first offender, a function off the dialect's list or a table that is not a plain name."""
    check_functions(tree, dialect)
    check_tables(tree)


def check_functions(tree: exp.Expression, dialect: str = "duckdb") -> None:
    """Every function the tree calls is on `dialect`'s allow-list, called by its plain name."""
    allowed = ALLOWED[dialect]
    for node in tree.walk():
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            called = f"{node.this.sql('duckdb')}.{function_name(node.expression, 'duckdb')}()"
            raise _refusal(node, f"calls {called}, and a function called through a prefix is not allowed in "
                                 "definitions. call it by its plain name, such as lower(x)")
        if not isinstance(node, exp.Func):
            continue
        name = function_name(node, dialect)
        if name is not None and name not in allowed:
            written = function_name(node, "duckdb") or name
            engine = "" if dialect == "duckdb" else f" on {dialect}"
            shown = f"{written}() ({name}() on {dialect})" if written != name else f"{name}()"
            raise _refusal(node, f"calls {shown}, which is not allowed in definitions{engine}: they read only "
                                 "the project's data, by source name. use a function that computes on the row's "
                                 f"values{_hint(name)}")


def function_name(node: exp.Func, dialect: str = "duckdb") -> str | None:
    """The lower-case name of the function `dialect` receives for `node`; None for syntax that calls none
    (CASE, operators)."""
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
        return str(node.name).lower()
    text = node.sql(dialect=dialect, unsupported_level=ErrorLevel.IGNORE)
    m = _LEADING_NAME.match(text)
    return m.group(1).lower() if m else None


def check_tables(tree: exp.Expression) -> None:
    """Every table read is a plain name (a source, a CTE, an engine table), never a path or a system catalog."""
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            if table.args.get("db") or table.args.get("catalog"):
                prefix = ".".join(p for p in (table.catalog, table.db) if p)
                raise _refusal(table, f"calls {prefix}.{function_name(table.this, 'duckdb')}(), and a function "
                                      "called through a prefix is not allowed in definitions. call it by its plain "
                                      "name")
            continue  # its name is judged with every other function
        parts = [p for p in (table.catalog, table.db, table.name) if p]
        problem = _table_problem(parts)
        if problem:
            raise _refusal(table, problem)


def check_table_name(name: str) -> None:
    """A `table:` source names one table of the engine: `table` or `schema.table`, nothing else."""
    parts = name.strip().split(".")
    if len(parts) > 2 or not all(_PLAIN.match(p) for p in parts):
        raise FragmentError(f"'{name}' is not a table name. write a plain name such as orders or "
                            "analytics.orders; to select or compute, define a source with `sql:`")
    problem = _table_problem(parts)
    if problem:
        raise FragmentError(problem)


def _table_problem(parts: list[str]) -> str | None:
    shown = ".".join(parts)
    if not all(_PLAIN.match(p) for p in parts):
        return (f"reads '{shown}', which is a path or a quoted name, not a source. define a source with "
                "`path:` and read it by its name")
    schema = parts[-2].lower() if len(parts) > 1 else ""
    if schema in _SYSTEM_SCHEMAS or any(p.lower().startswith(_SYSTEM_PREFIXES) for p in parts) \
            or (len(parts) == 3 and parts[0].lower() in _SYSTEM_SCHEMAS):
        return (f"reads '{shown}', a catalog of the engine itself, not data. read sources or tables of "
                "the project's data")
    return None


def _hint(name: str) -> str:
    if name.startswith(("read_", "sniff_", "parquet_", "glob")) or name.endswith("_scan"):
        return "; to read a file, define a source with `path:` and name it"
    return ""


def _refusal(node: exp.Expression, message: str) -> FragmentError:
    meta = _position(node)
    return FragmentError(message, meta[1], meta[0])


def _position(node: exp.Expression) -> tuple[int, int]:
    """(line, 1-based column) where a node's text starts, from sqlglot's token positions; (1, 0) unknown."""
    tokens = [n.meta for n in node.walk() if n._meta and "start" in n.meta and "col" in n.meta]
    if not tokens:
        return 1, 0
    first = min(tokens, key=lambda m: int(m["start"]))
    # sqlglot's `col` is where the token ends on its line; `start` and `end` are offsets into the whole text
    return int(first.get("line", 1)), int(first["col"]) - (int(first["end"]) - int(first["start"]))
