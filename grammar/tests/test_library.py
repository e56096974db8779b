"""The notes data: complete in every language, loud when broken, rendered as written."""

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from analysis.core.taxonomy import TAXONOMY
from grammar import notes as g

DATA = Path(g.__file__).parent / "data"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_the_families_are_the_products():
    assert g.FAMILIES == TAXONOMY


def test_every_note_is_written_in_every_language_with_every_field():
    ids = list(g.library().by_id)
    assert len(ids) >= 35
    for language in g.LANGUAGES:
        shown = g.notes(language)
        assert [n.id for n in shown] == ids  # every note, in the library's order
        for note in shown:
            assert note.language == language
            for field in ("title", "rule", "pattern", "tip"):
                text = getattr(note, field)
                assert text.strip(), (note.id, language, field)
                assert "{" not in text and "}" not in text, (note.id, language, field)
            wrong, right = note.example
            assert wrong.strip() and right.strip() and wrong != right


def test_each_family_has_its_own_general_note():
    for family in g.FAMILIES:
        for language in g.LANGUAGES:
            note = g.family_note(family, language)
            assert note.family == family
            assert note.id == g.library().by_family[family].id
    with pytest.raises(KeyError):
        g.family_note("grammar", "en")


def test_korean_and_spanish_notes_explain_in_their_language_and_quote_english():
    for ko, es, en in zip(g.notes("ko"), g.notes("es"), g.notes("en"), strict=True):
        assert HANGUL.search(ko.rule) and HANGUL.search(ko.tip), ko.id
        assert ko.rule != en.rule and es.rule != en.rule and es.tip != en.tip, ko.id
        assert not HANGUL.search(es.rule + en.rule)
        # The English worked example is the same in every language.
        assert ko.example == es.example == en.example


def test_the_slot_free_pattern_shows_the_notes_own_example_words():
    for language in g.LANGUAGES:
        for note in g.notes(language):
            wrong, right = g.library().by_id[note.id].example_slots
            assert f"*{wrong}*" in note.pattern and f"*{right}*" in note.pattern, note.id
            assert not note.own_words
            # The example words really are in the example sentences.
            assert wrong.lower() in note.example[0].lower(), note.id
            assert right.lower() in note.example[1].lower(), note.id


def test_slots_take_the_learners_words_and_their_neighbours():
    facts = g.EditFacts(
        error_type="verb_form",
        source_type="R:VERB:FORM",
        original="went",
        correction="gone",
        orig_tags=("VBD",),
        corr_tags=("VBN",),
        left_tokens=("I", "have"),
        left_lemmas=("i", "have"),
        left_tags=("PRP", "VBP"),
        right_tokens=("there", "."),
        right_lemmas=("there", "."),
        right_tags=("RB", "."),
    )
    en, ko, es = (g.note_for(facts, lang) for lang in ("en", "ko", "es"))
    assert en.id == ko.id == es.id == "have-past-participle"
    assert en.pattern == "*have* + past participle: *have gone*, not *have went*"
    assert ko.pattern == "*have* + 과거분사: *have gone* (O) / *have went* (X)"
    assert es.pattern == "*have* + participio: *have gone*, no *have went*"
    assert en.own_words


def test_the_learners_words_cannot_break_the_markdown():
    facts = g.EditFacts("spelling", "R:SPELL", "rec*ie_ved", "received")
    note = g.note_for(facts, "en")
    assert note.pattern == r"Spelling: *received*, not *rec\*ie\_ved*"


def test_an_edit_ERRANT_did_not_type_gets_no_note():
    facts = g.EditFacts("spelling", "diff", "musica", "música")
    assert g.note_for(facts, "en") is None


def test_other_languages_fall_back_to_english_and_regional_codes_to_their_language():
    assert g.note("a-or-an", "fr") == g.note("a-or-an", "en")
    assert g.note("a-or-an", "ko-KR").language == "ko"
    assert g.note("a-or-an", "es_MX").language == "es"
    assert g.note("a-or-an", "").language == "en"


def test_retrieval_text_is_plain_text_with_the_questions_a_learner_asks():
    text = g.retrieval_text("since-or-for")
    assert "When do I use since and for?" in text
    assert "since" in text.lower() and "*" not in text
    korean = g.retrieval_text("since-or-for", "ko")
    assert HANGUL.search(korean) and "When do I use since and for?" in korean
    with pytest.raises(KeyError):
        g.retrieval_text("no-such-note")


# -- broken data fails loudly --------------------------------------------------------------


def _broken(tmp_path: Path, name: str, old: str, new: str) -> Path:
    shutil.copytree(DATA, tmp_path / "data")
    path = tmp_path / "data" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path / "data"


def test_a_copy_of_the_shipped_data_loads(tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    assert set(g.load(tmp_path / "data").by_id) == set(g.library().by_id)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("ko.toml", 'tip = "불규칙한 것은', 'hint = "불규칙한 것은', "exactly the fields"),
        ("es.toml", "[comparatives]", "[comparativos]", "comparatives"),
        ("notes.toml", 'family = "spelling"', 'family = "speling"', "unknown family"),
        ("notes.toml", 'id = "a-or-an"', 'id = "a-or-the"', "used twice"),
        ("notes.toml", 'orig_lemmas = ["be"]', 'orig_lemma = ["be"]', "unknown condition"),
        ("notes.toml", 'keywords = ["spelling"', 'keyword = ["spelling"', "unknown keys"),
        (
            "en.toml",
            'pattern = "Spelling: *{right}*, not *{wrong}*"',
            'pattern = "*{right}*"',
            "{wrong}",
        ),
        ("en.toml", 'title = "Spelling"', 'title = "*Spelling"', "unclosed"),
        (
            "notes.toml",
            'example_slots = { wrong = "recieved", right = "received" }\n',
            "",
            "missing",
        ),
        ("notes.toml", "context = [0, 4]", "context = [0, 9]", "context"),
        (
            "notes.toml",
            'id = "spelling"\nfamily = "spelling"\n',
            'id = "spelling"\nfamily = "spelling"\nmatch = [{ types = ["SPELL"] }]\n',
            "without a general note",
        ),
    ],
)
def test_broken_data_is_refused_with_a_reason(tmp_path, name, old, new, message):
    with pytest.raises(g.NotesError, match=re.escape(message)):
        g.load(_broken(tmp_path, name, old, new))


def test_a_missing_language_file_is_refused(tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    (tmp_path / "data" / "es.toml").unlink()
    with pytest.raises(g.NotesError, match=r"es\.toml"):
        g.load(tmp_path / "data")


def test_the_data_files_are_valid_toml_with_one_table_per_note():
    for language in g.LANGUAGES:
        with (DATA / f"{language}.toml").open("rb") as fh:
            assert set(tomllib.load(fh)) == set(g.library().by_id)
