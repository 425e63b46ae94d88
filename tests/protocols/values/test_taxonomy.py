"""The bundled 48-value taxonomy and loading a user's list of values."""

from __future__ import annotations

import pytest

from moot.errors import UserError
from moot.protocols.values.taxonomy import load_value_taxonomy

THE_48 = [
    "Trust creation and maintenance",
    "Constructive dialogue",
    "Respect and dignity",
    "Professional ethics and integrity",
    "Social etiquette",
    "Religious respect and accommodation",
    "Linguistic respect and inclusivity",
    "Cultural understanding and respect",
    "Cultural heritage and tradition",
    "Financial wellbeing",
    "Sexual freedom and pleasure",
    "Protection of self and others from harm",
    "Environmental consciousness",
    "Authentic expression",
    "Workplace boundaries",
    "Parental care",
    "Consumer and client protection",
    "Child welfare",
    "Animal and pet welfare",
    "Worker welfare and dignity",
    "Workplace etiquette and respect",
    "Economic justice and fairness",
    "Healthcare equity and access",
    "Consent and personal boundaries",
    "Property rights protection",
    "Personal autonomy",
    "Emotional safety and support",
    "Mental health sensitivity and support",
    "Power dynamics values",
    "Privacy and confidentiality",
    "Religious and spiritual authenticity",
    "Emotional intelligence and regulation",
    "Emotional intimacy",
    "Prosocial altruism",
    "Honest communication",
    "Intergenerational respect and relationships",
    "Supportive and caring relationships",
    "Family bonds and cohesion",
    "Conflict resolution and reconciliation",
    "Public good and community engagement",
    "Accessibility",
    "Reciprocal relationship quality",
    "Empathy and understanding",
    "Personal growth",
    "Achievement and recognition",
    "Balance and moderation",
    "Physical health and wellbeing",
    "Personal accountability and responsibility",
]
TOP_CATEGORIES = {"Epistemic values", "Social values", "Practical values", "Protective values", "Personal values"}


def test_bundled_taxonomy_has_the_48_values_in_order():
    taxonomy = load_value_taxonomy()
    assert list(taxonomy.names) == THE_48
    assert len(taxonomy) == 48
    assert set(taxonomy.cluster) == set(THE_48)
    assert set(taxonomy.category) == set(THE_48)
    assert set(taxonomy.description) == set(THE_48)
    assert set(taxonomy.category.values()) <= TOP_CATEGORIES


def test_bundled_clusters_follow_the_source_tree():
    taxonomy = load_value_taxonomy()
    # Level-1 "Child welfare" sits under level-2 "Protecting vulnerable entities", under "Protective values".
    assert taxonomy.cluster["Child welfare"] == "Protecting vulnerable entities"
    assert taxonomy.category["Child welfare"] == "Protective values"
    # Mapped through the level-0 row "honest communication" (level 1: Authentic and honest communication).
    assert taxonomy.cluster["Honest communication"] == "Community and relationship bonds"
    # Mapped through the closest level-1 name, "Consent and boundaries".
    assert taxonomy.cluster["Consent and personal boundaries"] == "Protecting human rights and dignity"
    # Related values share a cluster; unrelated ones do not.
    assert taxonomy.cluster["Emotional intimacy"] == taxonomy.cluster["Emotional intelligence and regulation"]
    assert taxonomy.cluster["Accessibility"] != taxonomy.cluster["Financial wellbeing"]


def test_match_ignores_case_and_whitespace():
    taxonomy = load_value_taxonomy()
    assert taxonomy.match("  honest   COMMUNICATION ") == "Honest communication"
    assert taxonomy.match("Honesty") is None
    assert taxonomy.match("") is None


def test_user_text_file(tmp_path):
    path = tmp_path / "values.txt"
    path.write_text("# my values\nCare\n\n  Fairness  \nLiberty\n", encoding="utf-8")
    taxonomy = load_value_taxonomy(path)
    assert taxonomy.names == ("Care", "Fairness", "Liberty")
    assert taxonomy.cluster == {}
    assert taxonomy.match("fairness") == "Fairness"


def test_user_csv_file_with_optional_cluster(tmp_path):
    path = tmp_path / "values.csv"
    path.write_text('Value,Cluster\nCare,harm\n"Fairness, broadly",justice\nLiberty,\n', encoding="utf-8")
    taxonomy = load_value_taxonomy(path)
    assert taxonomy.names == ("Care", "Fairness, broadly", "Liberty")
    assert taxonomy.cluster == {"Care": "harm", "Fairness, broadly": "justice"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("values.csv", "name,cluster\nCare,harm\n", "values.csv: line 1: no 'value' column"),
        ("values.csv", "value,cluster\nCare,harm\nFairness,justice,extra\n", "values.csv: line 3: 3 fields"),
        ("values.csv", "value,cluster\nCare,harm\n,justice\n", "values.csv: line 3: empty value name"),
        ("values.txt", "Care\nFairness\n care \n", "values.txt: line 3: value 'care' repeats line 1"),
        ("values.txt", "# nothing here\n\n", "values.txt: no values"),
        ("values.csv", "value\n", "values.csv: no values"),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as error:
        load_value_taxonomy(path)
    assert str(error.value).startswith(str(tmp_path / message.split(":")[0]))
    assert message.split(":", 1)[1] in str(error.value)


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "values.txt"
    path.write_bytes(b"Care\nFair\xffness\n")
    with pytest.raises(UserError, match="line 2: not valid UTF-8"):
        load_value_taxonomy(path)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_value_taxonomy(tmp_path / "nope.csv")
