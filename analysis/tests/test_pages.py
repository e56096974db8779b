""" "My mistakes" pages and the chat page's hooks for inline corrections."""

import re

import pytest
from django.test import Client

from analysis.tests.conftest import chat, drain_queue, numbered, queue_batch
from conftest import PASSWORD
from conversations import services as conversation_services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def ended_conversation(learner, scripted_llm, count: int = 12):
    texts = numbered(count)
    for start in range(0, count, 10):
        queue_batch(scripted_llm, texts[start : start + 10])
    conversation = chat(learner, texts)
    conversation_services.conversation_end(conversation=conversation)
    drain_queue()
    return conversation


def test_my_mistakes_shows_clusters_examples_charts_and_their_tables(scripted_llm, alice):
    ended_conversation(alice, scripted_llm)

    page = signed_in(alice).get("/mistakes/")
    html = page.content.decode()

    assert page.status_code == 200
    assert "Your recurring mistakes" in html
    assert "12 times" in html
    assert "I <mark>goed</mark> to the shop" in html
    assert "<del>goed</del>" in html and "<ins>went</ins>" in html
    assert "<h3>Irregular past forms <span" in html  # named by the grammar note that fits
    assert html.count("<svg") == 1  # errors over time (no map: see analysis/core/charts.py)
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>")[0]  # no pygal script
    assert "cdn" not in html.lower()
    assert html.count('<table class="data-table">') == 2  # the chart's, and the level
    assert re.search(r"<th scope=\"row\">\d{4}-\d\d-\d\d</th><td>12</td>", html)


def test_a_conversations_mistakes_page_is_for_its_owner_only(scripted_llm, alice, bob):
    conversation = ended_conversation(alice, scripted_llm)

    mine = signed_in(alice).get(f"/conversations/{conversation.pk}/mistakes/")
    theirs = signed_in(bob).get(f"/conversations/{conversation.pk}/mistakes/")
    bobs_overview = signed_in(bob).get("/mistakes/").content.decode()

    assert mine.status_code == 200 and "<mark>goed</mark>" in mine.content.decode()
    assert theirs.status_code == 404
    assert "goed" not in bobs_overview and "No mistake families yet" in bobs_overview


def test_pages_need_a_sign_in(alice):
    response = Client().get("/mistakes/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_open_conversation_says_families_come_at_the_end(scripted_llm, alice):
    conversation = chat(alice, numbered(2))

    html = signed_in(alice).get(f"/conversations/{conversation.pk}/mistakes/").content.decode()

    assert "grouped into families once the conversation ends" in html


def test_the_chat_page_links_my_mistakes_and_loads_the_analysis_script(alice):
    conversation = chat(alice, numbered(1))

    html = signed_in(alice).get(f"/conversations/{conversation.pk}/").content.decode()

    assert f'href="/conversations/{conversation.pk}/mistakes/"' in html
    assert f'data-analysis-url="/api/v1/conversations/{conversation.pk}/analysis/"' in html
    assert "js/analysis.js" in html
    assert 'href="/mistakes/"' in html  # in the navigation
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert inline == []  # no inline scripts (a strict Content-Security-Policy)
