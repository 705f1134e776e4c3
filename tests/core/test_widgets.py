"""The long-list widgets write the stock widgets' markup themselves (a template per option costs ~150 µs at
a thousand instances): the same HTML as Django's own (whitespace between tags aside), for the cases they handle."""

from __future__ import annotations

import re

import pytest
from django import forms

from harborops.core.widgets import LongCheckboxSelectMultiple, LongSelect

pytestmark = [pytest.mark.embedded]


def html(markup: object) -> str:
    """Markup with runs of whitespace as one space and none between tags (browsers render them the same)."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(markup))).strip()

CHOICES = [(1, "harbor-a"), (2, 'harbor-<b>"quoted"</b> & co'), (3, "harbor-c"), (10, "harbor-j")]


class Stock(forms.Form):
    boxes = forms.MultipleChoiceField(choices=CHOICES, widget=forms.CheckboxSelectMultiple, required=False)
    one = forms.ChoiceField(choices=[("", "---------"), *CHOICES], required=False)


class Long(forms.Form):
    boxes = forms.MultipleChoiceField(choices=CHOICES, widget=LongCheckboxSelectMultiple, required=False)
    one = forms.ChoiceField(choices=[("", "---------"), *CHOICES], widget=LongSelect, required=False)


@pytest.mark.parametrize("data", [None, {"boxes": ["2", "10"], "one": "3"}, {"boxes": ["1"], "one": ""}])
def test_the_long_widgets_write_the_stock_markup(data: dict[str, object] | None) -> None:
    stock, long = (Stock(data=data), Long(data=data)) if data is not None else (Stock(), Long())
    for name in ("boxes", "one"):
        assert html(long[name]) == html(stock[name]), name


def test_classes_and_a_prefix_reach_the_markup() -> None:
    stock = Stock(prefix="p", initial={"boxes": [3]})
    long = Long(prefix="p", initial={"boxes": [3]})
    stock.fields["boxes"].widget.attrs["class"] = long.fields["boxes"].widget.attrs["class"] = "cols"
    assert html(long["boxes"]) == html(stock["boxes"]) and 'class="cols"' in str(long["boxes"])
    assert 'id="id_p-boxes_2" checked' in str(long["boxes"])


def test_option_groups_fall_back_to_the_stock_widget() -> None:
    grouped = [("prod", [(1, "a"), (2, "b")]), ("dev", [(3, "c")])]
    stock = forms.CheckboxSelectMultiple(choices=grouped).render("g", ["2"])
    assert html(LongCheckboxSelectMultiple(choices=grouped).render("g", ["2"])) == html(stock)


def test_inline_checkboxes_write_what_the_forms_loop_wrote() -> None:
    from django.template import Context, Template

    class Inline(forms.Form):
        boxes = forms.MultipleChoiceField(choices=CHOICES, widget=LongCheckboxSelectMultiple(inline=True),
                                          required=False)

    loop = Template('{% for box in form.boxes %}<label class="inline-choice">{{ box.tag }} {{ box.choice_label }}'
                    '</label> {% endfor %}')
    for data in (None, {"boxes": ["2", "3"]}):
        stock, long = (Stock(data=data), Inline(data=data)) if data else (Stock(), Inline())
        assert html(long["boxes"]) == html(loop.render(Context({"form": stock})))
    assert 'value="2" id="id_boxes_1" checked> harbor-&lt;b&gt;' in str(Inline(data={"boxes": ["2"]})["boxes"])
